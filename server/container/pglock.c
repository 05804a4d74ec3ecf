#include "server/container/pglock.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_TEXT_MAX = 24 };
/* Connecting for the lock gives up after this; --wait-for-db is the way to wait longer. */
static const char CONNECT_TIMEOUT[] = "10";

struct wh_pglock {
    PGconn *conn;
    char key[KEY_TEXT_MAX];
};

/* Runs `sql` with the key as $1 and returns the single boolean it selects: 1, 0, or -1. */
static int query_bool(PGconn *conn, const char *sql, const char *key, char *err, size_t err_size)
{
    const char *params[] = {key};
    PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1) {
        rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    } else if (err != NULL) {
        snprintf(err, err_size, "%s failed: %s", sql, PQerrorMessage(conn));
    }
    PQclear(res);
    return rc;
}

wh_pglock_t *wh_pglock_acquire(const char *conninfo, int64_t key, void (*on_wait)(void *ctx),
                               void *ctx, char *err, size_t err_size)
{
    wh_pglock_t *lock = calloc(1, sizeof(*lock));
    if (lock == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    snprintf(lock->key, sizeof(lock->key), "%" PRId64, key);
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *const values[] = {conninfo, CONNECT_TIMEOUT, "wsgihost migrate lock", NULL};
    lock->conn = PQconnectdbParams(keys, values, 1);
    if (lock->conn == NULL || PQstatus(lock->conn) != CONNECTION_OK) {
        snprintf(err, err_size, "cannot connect to take the migration lock: %s",
                 lock->conn ? PQerrorMessage(lock->conn) : "out of memory");
        goto fail;
    }
    int got =
        query_bool(lock->conn, "SELECT pg_try_advisory_lock($1::bigint)", lock->key, err, err_size);
    if (got < 0)
        goto fail;
    if (got == 0) {
        if (on_wait != NULL)
            on_wait(ctx);
        /* pg_advisory_lock returns void: select something we can check. */
        if (query_bool(lock->conn, "SELECT pg_advisory_lock($1::bigint) IS NULL", lock->key, err,
                       err_size) < 0)
            goto fail;
    }
    return lock;
fail:
    PQfinish(lock->conn);
    free(lock);
    return NULL;
}

int wh_pglock_release(wh_pglock_t *lock)
{
    if (lock == NULL)
        return 0;
    int rc = query_bool(lock->conn, "SELECT pg_advisory_unlock($1::bigint)", lock->key, NULL, 0);
    PQfinish(lock->conn);
    free(lock);
    return rc == 1 ? 0 : -1;
}
