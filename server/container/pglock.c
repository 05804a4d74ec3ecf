#include "server/container/pglock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/container/pq.h"

enum { KEY_TEXT_MAX = 24 };
/* Connecting for the lock gives up after this; --wait-for-db is the way to wait longer. */
static const char CONNECT_TIMEOUT[] = "10";

struct wh_pglock {
    const wh_pq_t *pq;
    PGconn *conn;
    char key[KEY_TEXT_MAX];
};

/* Runs `sql` with the lock's key as $1 and returns the single boolean it selects: 1, 0, or -1. */
static int query_bool(const wh_pglock_t *lock, const char *sql, char *err, size_t err_size)
{
    const wh_pq_t *pq = lock->pq;
    const char *params[] = {lock->key};
    PGresult *res = pq->execParams(lock->conn, sql, 1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (pq->resultStatus(res) == PGRES_TUPLES_OK && pq->ntuples(res) == 1 &&
        pq->nfields(res) == 1) {
        rc = strcmp(pq->getvalue(res, 0, 0), "t") == 0;
    } else if (err != NULL) {
        snprintf(err, err_size, "%s failed: %s", sql, pq->errorMessage(lock->conn));
    }
    pq->clear(res);
    return rc;
}

wh_pglock_t *wh_pglock_acquire(const char *conninfo, int64_t key, void (*on_wait)(void *ctx),
                               void *ctx, char *err, size_t err_size)
{
    const wh_pq_t *pq = wh_pq(err, err_size);
    if (pq == NULL)
        return NULL;
    wh_pglock_t *lock = calloc(1, sizeof(*lock));
    if (lock == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    lock->pq = pq;
    snprintf(lock->key, sizeof(lock->key), "%" PRId64, key);
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *const values[] = {conninfo, CONNECT_TIMEOUT, "wsgihost migrate lock", NULL};
    lock->conn = pq->connectdbParams(keys, values, 1);
    if (lock->conn == NULL || pq->status(lock->conn) != CONNECTION_OK) {
        snprintf(err, err_size, "cannot connect to take the migration lock: %s",
                 lock->conn ? pq->errorMessage(lock->conn) : "out of memory");
        goto fail;
    }
    int got = query_bool(lock, "SELECT pg_try_advisory_lock($1::bigint)", err, err_size);
    if (got < 0)
        goto fail;
    if (got == 0) {
        if (on_wait != NULL)
            on_wait(ctx);
        /* pg_advisory_lock returns void: select something we can check. */
        if (query_bool(lock, "SELECT pg_advisory_lock($1::bigint) IS NULL", err, err_size) < 0)
            goto fail;
    }
    return lock;
fail:
    pq->finish(lock->conn);
    free(lock);
    return NULL;
}

int wh_pglock_release(wh_pglock_t *lock)
{
    if (lock == NULL)
        return 0;
    int rc = query_bool(lock, "SELECT pg_advisory_unlock($1::bigint)", NULL, 0);
    lock->pq->finish(lock->conn);
    free(lock);
    return rc == 1 ? 0 : -1;
}
