/* Wires static file serving into a worker: the --static mounts, and Django's STATIC_ROOT (and
 * MEDIA_ROOT with --serve-media) read from the loaded app's settings (pyglue), unless
 * --no-static. Part of cmd/main.c's wiring: it knows both server/ and pyglue/. */
#ifndef WSGIHOST_STATIC_SETUP_H
#define WSGIHOST_STATIC_SETUP_H

#include <stdbool.h>

#include "server/static/serve.h"
#include "server/http/worker.h"

/* In the worker, after the app is loaded and before wh_py_start (it reads Django's settings
 * with the GIL). 0 with the handler to free after the loop ends in *out (NULL when nothing is
 * served), or -1 with a one-line reason in err. `announce` logs what is served. */
int wh_static_setup(wh_worker_t *w, const wh_config_t *cfg, bool announce, wh_static_t **out,
                    char *err, size_t err_size);

#endif
