/* A PostgreSQL session advisory lock held by the master while it runs the migration, so
 * replicas starting together migrate one after another instead of racing. Blocking calls for
 * start-up, before any worker exists. */
#ifndef WSGIHOST_PGLOCK_H
#define WSGIHOST_PGLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wh_pglock wh_pglock_t;

/* The key every wsgihost uses for `--migrate` ("wsgihost" in ASCII). */
#define WH_PGLOCK_MIGRATE_KEY INT64_C(0x77736769686f7374)

/* Connects and takes the lock `key`, waiting for whoever holds it. When another session holds
 * it, calls on_wait(ctx) once before waiting. NULL on failure, with the reason in err. */
wh_pglock_t *wh_pglock_acquire(const char *conninfo, int64_t key, void (*on_wait)(void *ctx),
                               void *ctx, char *err, size_t err_size);

/* Releases the lock and closes the connection (also when the release fails: closing the session
 * drops its locks). Returns 0, or -1 when the explicit unlock failed. */
int wh_pglock_release(wh_pglock_t *lock);

#endif
