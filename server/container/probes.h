/* Liveness and readiness probes, answered by a worker's loop thread without Python or the GIL
 * (registered as a local handler, server/http/worker.h):
 *   --health-path  200 {"status":"ok"} while the loop runs and no request has been in the app
 *                  longer than --health-timeout (a hung interpreter or stuck threads make it
 *                  503 "stalled"). No database in it: a database outage must not get healthy
 *                  containers restarted.
 *   --ready-path   200 when, if PostgreSQL is configured, a PQping succeeds (cached for
 *                  WH_PROBES_CACHE_MS; the ping runs in libuv's thread pool, and requests that
 *                  arrive meanwhile wait for it); 503 with the reason in a small JSON body
 *                  otherwise, and 503 "draining" once SIGTERM came (--drain-delay).
 * Only the exact path matches (the query is ignored); any method gets the answer. */
#ifndef WSGIHOST_PROBES_H
#define WSGIHOST_PROBES_H

#include "server/http/worker.h"

enum { WH_PROBES_CACHE_MS = 1000 };

typedef struct wh_probes wh_probes_t;

/* Reads the database configuration from envp (server/container/pgconf.h) and registers the
 * handler on the worker when cfg has a probe path. 0 with the probes in *out (NULL, nothing to
 * free, when no probe is configured), or -1 with a one-line reason in err. */
int wh_probes_install(wh_worker_t *w, char *const *envp, wh_probes_t **out, char *err,
                      size_t err_size);

/* After wh_worker_run returned (nothing is in flight then). NULL is fine. */
void wh_probes_free(wh_probes_t *p);

#endif
