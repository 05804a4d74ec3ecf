#include "server/container/pgconf.h"
#include "server/core/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The schemes dj-database-url maps to PostgreSQL. libpq itself knows only the first two, so
 * the others are rewritten. */
static const char *const PG_SCHEMES[] = {"postgres://", "postgresql://", "pgsql://", "postgis://"};
static const char LIBPQ_SCHEME[] = "postgresql://";
/* Variables that make libpq (and apps configured through them) reach a server. */
static const char *const PG_VARIABLES[] = {"PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE"};

enum { COUNT_SCHEMES = sizeof(PG_SCHEMES) / sizeof(PG_SCHEMES[0]) };
enum { COUNT_VARIABLES = sizeof(PG_VARIABLES) / sizeof(PG_VARIABLES[0]) };

static size_t pg_scheme_len(const char *url)
{
    for (size_t i = 0; i < COUNT_SCHEMES; i++) {
        size_t n = strlen(PG_SCHEMES[i]);
        if (strncasecmp(url, PG_SCHEMES[i], n) == 0)
            return n;
    }
    return 0;
}

wh_db_kind_t wh_pgconf_from_env(char *const *envp, char *conninfo, size_t cap)
{
    if (cap == 0)
        return WH_DB_INVALID;
    conninfo[0] = '\0';
    const char *url = wh_env_get(envp, "DATABASE_URL");
    if (url != NULL && url[0] != '\0') {
        size_t scheme = pg_scheme_len(url);
        if (scheme == 0)
            return WH_DB_OTHER;
        int n = snprintf(conninfo, cap, "%s%s", LIBPQ_SCHEME, url + scheme);
        if (n < 0 || (size_t)n >= cap) {
            conninfo[0] = '\0';
            return WH_DB_INVALID;
        }
        return WH_DB_POSTGRES;
    }
    for (size_t i = 0; i < COUNT_VARIABLES; i++) {
        const char *v = wh_env_get(envp, PG_VARIABLES[i]);
        if (v != NULL && v[0] != '\0')
            return WH_DB_POSTGRES;
    }
    return WH_DB_NONE;
}
