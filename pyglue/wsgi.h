/* The runner threads: each pops exchanges from the job queue, calls the WSGI app with the GIL
 * held (start_response, write(), iteration, close()) and feeds the response back. */
#ifndef WSGIHOST_PYGLUE_WSGI_H
#define WSGIHOST_PYGLUE_WSGI_H

#include <stdint.h>

#include "pyglue/compat.h"
#include "server/http/exchange.h"

/* Readies the types and keeps a reference to the app. 0, or -1 with an exception set. */
int wh_wsgi_init(PyObject *app);
/* Drops the app and what runners cached (GIL held, runners joined). */
void wh_wsgi_fini(void);

/* Starts `threads` runners on q; the caller holds the GIL and releases it afterwards, which is
 * when they begin. On failure (-1, logged) the runners already started keep running: shut the
 * queue down and call wh_wsgi_join as usual. */
int wh_wsgi_start(wh_jobq_t *q, int threads);
/* --threads 0 (threads == 0 above: no runner started): runs one exchange to its finish on the
 * calling thread, the GIL held. */
void wh_wsgi_run_here(wh_exchange_t *ex);
/* Waits for every runner (after wh_jobq_shutdown), GIL released. */
void wh_wsgi_join(void);

/* Exchanges finished by all runners so far: a cheap progress counter for a watchdog. */
uint64_t wh_wsgi_progress(void);

#endif
