#include "cmd/static_setup.h"

#include "pyglue/pyglue.h"
#include "server/core/errmsg.h"
#include "server/core/log.h"
#include "server/static/open.h"

enum { ERROR_TEXT_MAX = 512 };

/* Django's directories: a missing STATIC_ROOT (collectstatic not run yet) is a warning, not a
 * reason to refuse to start; the app then sees those requests. */
static void mount_django(wh_static_t *s, const wh_config_t *cfg, bool announce)
{
    wh_django_paths_t dj;
    if (wh_py_django_paths(&dj) != 1)
        return;
    char err[ERROR_TEXT_MAX];
    if (dj.static_url && dj.static_root &&
        wh_static_mount(s, dj.static_url, dj.static_root, false, dj.manifest, err, sizeof(err)) !=
            0 &&
        announce)
        wh_log(WH_LOG_WARNING, "%s (run collectstatic?); the app will see %s requests", err,
               dj.static_url);
    if (cfg->serve_media && dj.media_url && dj.media_root &&
        wh_static_mount(s, dj.media_url, dj.media_root, true, NULL, err, sizeof(err)) != 0 &&
        announce)
        wh_log(WH_LOG_WARNING, "%s; the app will see %s requests", err, dj.media_url);
    if (cfg->serve_media && !(dj.media_url && dj.media_root) && announce)
        wh_log(WH_LOG_WARNING, "--serve-media: the app's MEDIA_URL or MEDIA_ROOT is not set");
    wh_django_paths_free(&dj);
}

int wh_static_setup(wh_worker_t *w, const wh_config_t *cfg, bool announce, wh_static_t **out,
                    char *err, size_t err_size)
{
    *out = NULL;
    if (cfg->no_static)
        return 0;
    wh_static_options_t opts = {
        .fallthrough = cfg->static_fallthrough,
        .index = cfg->static_index,
        .cors = !cfg->no_static_cors,
        .max_age = cfg->static_max_age,
    };
    wh_static_t *s = wh_static_new(&opts);
    if (s == NULL)
        return wh_errorf(err, err_size, "cannot set up static files (out of memory)");
    for (size_t i = 0; i < cfg->static_count; i++) {
        if (wh_static_mount_spec(s, cfg->statics[i], err, err_size) != 0) {
            wh_static_free(s);
            return -1;
        }
    }
    mount_django(s, cfg, announce);
    if (wh_static_mount_count(s) == 0) {
        wh_static_free(s);
        return 0;
    }
    if (announce)
        wh_static_log_mounts(s);
    if (wh_worker_add_local_handler(w, wh_static_handle, s) != 0) {
        wh_static_free(s);
        return wh_errorf(err, err_size, "cannot add the static file handler (too many handlers)");
    }
    *out = s;
    return 0;
}
