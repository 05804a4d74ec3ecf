#include "server/container/pgcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/container/pq.h"

enum { TIMEOUT_TEXT_MAX = 16 };

wh_pg_status_t wh_pg_ping(const char *conninfo, int connect_timeout_s)
{
    char timeout[TIMEOUT_TEXT_MAX];
    if (connect_timeout_s < WH_PG_MIN_CONNECT_TIMEOUT)
        connect_timeout_s = WH_PG_MIN_CONNECT_TIMEOUT;
    snprintf(timeout, sizeof(timeout), "%d", connect_timeout_s);
    /* expand_dbname: "dbname" may hold a whole conninfo or URI; connect_timeout comes after it
     * and so overrides one in the URL. Empty values are ignored: PG* variables apply. */
    const char *const keys[] = {"dbname", "connect_timeout", NULL};
    const char *const values[] = {conninfo, timeout, NULL};
    const wh_pq_t *pq = wh_pq(NULL, 0);
    if (pq == NULL) /* callers check wh_pq first: this only keeps the call safe */
        return WH_PG_BAD_CONFIG;
    switch (pq->pingParams(keys, values, 1)) {
    case PQPING_OK:
        return WH_PG_UP;
    case PQPING_REJECT:
        return WH_PG_REJECTING;
    case PQPING_NO_ATTEMPT:
        return WH_PG_BAD_CONFIG;
    case PQPING_NO_RESPONSE:
    default:
        return WH_PG_NO_RESPONSE;
    }
}

const char *wh_pg_status_text(wh_pg_status_t status)
{
    switch (status) {
    case WH_PG_UP:
        return "accepting connections";
    case WH_PG_REJECTING:
        return "rejecting connections";
    case WH_PG_NO_RESPONSE:
        return "no response";
    case WH_PG_BAD_CONFIG:
        return "invalid connection settings";
    }
    return "unknown";
}

/* An explicit value from the parsed conninfo, else the PG* variable, else the fallback. */
static const char *pick(const char *value, const char *env, const char *fallback)
{
    if (value != NULL && value[0] != '\0')
        return value;
    const char *v = getenv(env);
    return v != NULL && v[0] != '\0' ? v : fallback;
}

void wh_pg_describe(const char *conninfo, char *out, size_t cap)
{
    if (cap == 0)
        return;
    const char *host = NULL, *port = NULL, *dbname = NULL;
    const wh_pq_t *pq = wh_pq(NULL, 0);
    PQconninfoOption *opts = pq != NULL ? pq->conninfoParse(conninfo, NULL) : NULL;
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0 && host == NULL)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            dbname = o->val;
    }
    snprintf(out, cap, "%s:%s/%s", pick(host, "PGHOST", "localhost"), pick(port, "PGPORT", "5432"),
             pick(dbname, "PGDATABASE", "(default)"));
    if (opts != NULL)
        pq->conninfoFree(opts);
}
