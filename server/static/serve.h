/* Static files from the loop thread: a local handler (server/http/worker.h) that answers requests
 * under its URL prefixes from directories, without Python.
 *
 * What it does per request: safe path resolution (server/static/path.h, server/static/open.h),
 * an fd/stat cache (server/static/cache.h), Content-Type (server/static/mime.h), ETag/Last-Modified
 * and 304s, single byte ranges (206/416), precompressed .br/.gz variants chosen by Accept-Encoding,
 * Cache-Control (immutable for names in Django's staticfiles.json manifest), CORS, and for user
 * uploads (media mounts) nosniff and attachments for types a browser would run. Bodies go out
 * with sendfile, or from memory for small files. Methods other than GET and HEAD get 405. */
#ifndef WSGIHOST_STATIC_H
#define WSGIHOST_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http/exchange.h"

enum { WH_STATIC_MAX_MOUNTS = 16 };

typedef struct {
    bool fallthrough; /* a path under a prefix that matches no file goes to the app */
    bool index;       /* a directory serves its index.html */
    bool cors;        /* Access-Control-Allow-Origin: * */
    double max_age;   /* seconds, for files that are not manifest-hashed */
} wh_static_options_t;

typedef struct wh_static wh_static_t;

/* A handler with no mounts yet. NULL on out of memory. */
wh_static_t *wh_static_new(const wh_static_options_t *opts);

/* Serves directory `root` at URL `prefix` (a leading and trailing '/' are added when missing).
 * A static mount reads its manifest for hashed names (the file `manifest`, or
 * root/staticfiles.json when NULL); a media mount (user uploads)
 * gets no immutable caching, X-Content-Type-Options: nosniff and Content-Disposition:
 * attachment for active types. Returns 0, or -1 with a message in err (the directory cannot be
 * opened, too many mounts). */
int wh_static_mount(wh_static_t *s, const char *prefix, const char *root, bool media,
                    const char *manifest, char *err, size_t err_size);

/* Logs "Serving static files: /static/ from DIR" for each mount. */
void wh_static_log_mounts(const wh_static_t *s);

/* Mounts a "--static" argument: "/prefix/=DIR". */
int wh_static_mount_spec(wh_static_t *s, const char *spec, char *err, size_t err_size);

/* Mounts currently set up. */
size_t wh_static_mount_count(const wh_static_t *s);

/* The local handler (wh_local_handler_fn); ctx is the wh_static_t. */
bool wh_static_handle(void *ctx, wh_exchange_t *ex);

void wh_static_free(wh_static_t *s);

#endif
