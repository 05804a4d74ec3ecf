/* --reload: restart the workers when the app's Python files change (for development).
 *
 * Each worker, once it has imported the app, watches the directories its modules came from
 * (pyglue lists them; the standard library and site-packages are left out) and the
 * --reload-extra-file files, with libuv's fs events (inotify on Linux: one watch per
 * directory, not recursive; a directory created inside a watched one is watched as it
 * appears). A change to a .py file (or an extra file) asks the master for a HUP, which
 * replaces every worker gracefully: the new ones import the code afresh. The scoreboard's
 * reload_requested flag makes one change one reload, however many workers saw it; the master
 * clears it once the new workers are ready. Loop thread only. */
#ifndef WSGIHOST_RELOAD_H
#define WSGIHOST_RELOAD_H

#include <stddef.h>

#include "server/http/worker.h"

typedef struct wh_reload wh_reload_t;

/* Starts watching. `dirs` are the module directories, `extra` the extra files. NULL when
 * nothing could be watched (logged). The watcher is closed when the worker stops. */
wh_reload_t *wh_reload_start(wh_worker_t *w, char *const *dirs, size_t dir_count,
                             const char *const *extra, size_t extra_count);

/* After wh_worker_run returned (its handles are closed by then). NULL is fine. */
void wh_reload_free(wh_reload_t *r);

#endif
