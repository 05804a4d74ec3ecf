/* --reload (see server/proc/reload.h). */
#include "server/proc/reload.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/core/log.h"

/* Editors save in bursts (write a temporary file, rename, chmod): act once the burst is over. */
enum { SETTLE_MS = 100 };
/* Directories watched at most per worker (inotify has a per-user limit too). */
enum { MAX_WATCHES = 4096 };

typedef struct watch {
    uv_fs_event_t handle;
    struct wh_reload *owner;
    char *dir;
} watch_t;

struct wh_reload {
    wh_worker_t *worker;
    watch_t **watches;
    size_t count, cap;
    char **extra; /* real paths of the extra files */
    size_t extra_count;
    uv_timer_t settle;
    char changed[PATH_MAX];
    int open_handles;
    bool closing;
};

static void on_closed(uv_handle_t *h)
{
    wh_reload_t *r = h->data;
    if (h != (uv_handle_t *)&r->settle)
        free(((watch_t *)h)->dir), free(h);
    r->open_handles--;
}

static void close_all(void *ctx)
{
    wh_reload_t *r = ctx;
    if (r->closing)
        return;
    r->closing = true;
    for (size_t i = 0; i < r->count; i++) {
        r->watches[i]->handle.data = r;
        uv_close((uv_handle_t *)&r->watches[i]->handle, on_closed);
    }
    r->count = 0;
    uv_close((uv_handle_t *)&r->settle, on_closed);
}

static void request_reload(uv_timer_t *t)
{
    wh_reload_t *r = t->data;
    wh_worker_t *w = r->worker;
    if (w->stopping)
        return;
    if (w->sb && atomic_exchange(&w->sb->reload_requested, 1) != 0)
        return; /* another worker asked already */
    wh_log(WH_LOG_INFO, "%s changed: reloading the workers", r->changed);
    if (kill(getppid(), SIGHUP) != 0)
        wh_log(WH_LOG_ERROR, "cannot ask the master to reload: %s", strerror(errno));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_watch(wh_reload_t *r, const char *dir);
static void on_event(uv_fs_event_t *h, const char *filename, int events, int status);

static bool is_extra(const wh_reload_t *r, const char *path)
{
    for (size_t i = 0; i < r->extra_count; i++) {
        if (strcmp(r->extra[i], path) == 0)
            return true;
    }
    return false;
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)events;
    watch_t *wt = (watch_t *)h;
    wh_reload_t *r = wt->owner;
    if (status < 0 || filename == NULL || r->closing || r->worker->stopping)
        return;
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", wt->dir, filename) >= (int)sizeof(path))
        return;
    struct stat st;
    if (filename[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        add_watch(r, path); /* a new package: its modules may be imported next */
        return;
    }
    bool python = ends_with(filename, ".py") && filename[0] != '.';
    if (!python && !is_extra(r, path))
        return;
    snprintf(r->changed, sizeof(r->changed), "%s", path);
    uv_timer_start(&r->settle, request_reload, SETTLE_MS, 0);
}

static int add_watch(wh_reload_t *r, const char *dir)
{
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->watches[i]->dir, dir) == 0)
            return 0;
    }
    if (r->count == MAX_WATCHES)
        return -1;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        watch_t **more = realloc(r->watches, cap * sizeof(watch_t *));
        if (more == NULL)
            return -1;
        r->watches = more;
        r->cap = cap;
    }
    watch_t *wt = calloc(1, sizeof(*wt));
    if (wt == NULL || (wt->dir = strdup(dir)) == NULL) {
        free(wt);
        return -1;
    }
    wt->owner = r;
    int rc = uv_fs_event_init(&r->worker->loop, &wt->handle);
    if (rc != 0) {
        free(wt->dir);
        free(wt);
        return -1;
    }
    rc = uv_fs_event_start(&wt->handle, on_event, dir, 0);
    if (rc != 0) {
        wh_log(WH_LOG_WARNING, "--reload: cannot watch %s: %s", dir, uv_strerror(rc));
        wt->handle.data = r;
        r->open_handles++;
        uv_close((uv_handle_t *)&wt->handle, on_closed);
        return -1;
    }
    r->open_handles++;
    r->watches[r->count++] = wt;
    return 0;
}

wh_reload_t *wh_reload_start(wh_worker_t *w, char *const *dirs, size_t dir_count,
                             const char *const *extra, size_t extra_count)
{
    wh_reload_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->worker = w;
    uv_timer_init(&w->loop, &r->settle);
    r->settle.data = r;
    r->open_handles = 1;
    r->extra = calloc(extra_count ? extra_count : 1, sizeof(*r->extra));
    for (size_t i = 0; i < dir_count; i++)
        add_watch(r, dirs[i]);
    for (size_t i = 0; r->extra && i < extra_count; i++) {
        char real[PATH_MAX];
        if (realpath(extra[i], real) == NULL) {
            wh_log(WH_LOG_WARNING, "--reload-extra-file %s: %s", extra[i], strerror(errno));
            continue;
        }
        r->extra[r->extra_count] = strdup(real);
        if (r->extra[r->extra_count] == NULL)
            continue;
        r->extra_count++;
        char *slash = strrchr(real, '/');
        if (slash) {
            *slash = '\0';
            add_watch(r, slash == real ? "/" : real);
        }
    }
    w->stop_hook.fn = close_all;
    w->stop_hook.ctx = r;
    wh_log(WH_LOG_DEBUG, "--reload: watching %zu director%s", r->count,
           r->count == 1 ? "y" : "ies");
    return r;
}

void wh_reload_free(wh_reload_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->extra_count; i++)
        free(r->extra[i]);
    free(r->extra);
    free(r->watches);
    free(r);
}
