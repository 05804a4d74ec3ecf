#include "server/static/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/core/errmsg.h"
#include "server/http/exchange_loop.h"
#include "server/core/log.h"
#include "server/static/mime.h"
#include "server/http/response.h"
#include "server/static/cache.h"
#include "server/static/manifest.h"
#include "server/static/open.h"
#include "server/static/parse.h"
#include "server/static/path.h"

/* whitenoise's and Django's "forever" for names that change with their content. */
static const char IMMUTABLE_CACHE[] = "max-age=315360000, public, immutable";
static const char MANIFEST_NAME[] = "staticfiles.json";
static const char INDEX_NAME[] = "index.html";
static const char MIME_TYPES_PATH[] = "/etc/mime.types";
static const char ALLOW_METHODS[] = "GET, HEAD";
enum { PREFIX_MAX = 1024, MAX_HEADERS = 16, VALUE_MAX = 128, Q_NONE = 0, MANIFEST_NAME_MAX = 256 };

typedef struct {
    char prefix[PREFIX_MAX];
    size_t prefix_len;
    char *root;
    int root_fd;
    bool media;
    wh_manifest_t manifest;
    char manifest_name[MANIFEST_NAME_MAX]; /* for the log line */
} mount_t;

struct wh_static {
    wh_static_options_t opts;
    mount_t mounts[WH_STATIC_MAX_MOUNTS];
    size_t mount_count;
    wh_static_cache_t *cache;
    char cache_control[VALUE_MAX];
    char rel[WH_STATIC_PATH_MAX + sizeof("/index.html")]; /* scratch for one request */
};

wh_static_t *wh_static_new(const wh_static_options_t *opts)
{
    wh_static_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->opts = *opts;
    s->cache = wh_static_cache_new();
    if (s->cache == NULL || wh_mime_load(MIME_TYPES_PATH) != 0) {
        wh_static_cache_free(s->cache);
        free(s);
        return NULL;
    }
    double age = opts->max_age < 0 ? 0 : opts->max_age > INT32_MAX ? INT32_MAX : opts->max_age;
    snprintf(s->cache_control, sizeof(s->cache_control), "max-age=%ld, public", (long)age);
    wh_static_open_init();
    return s;
}

void wh_static_free(wh_static_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->mount_count; i++) {
        close(s->mounts[i].root_fd);
        free(s->mounts[i].root);
        wh_manifest_free(&s->mounts[i].manifest);
    }
    wh_static_cache_free(s->cache);
    wh_mime_free();
    free(s);
}

size_t wh_static_mount_count(const wh_static_t *s)
{
    return s->mount_count;
}

int wh_static_mount(wh_static_t *s, const char *prefix, const char *root, bool media,
                    const char *manifest, char *err, size_t err_size)
{
    if (s->mount_count == WH_STATIC_MAX_MOUNTS)
        return wh_errorf(err, err_size, "too many static mounts (at most %d)",
                         WH_STATIC_MAX_MOUNTS);
    mount_t *m = &s->mounts[s->mount_count];
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[0] == '/') { /* written back with exactly one slash each side */
        prefix++;
        plen--;
    }
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    if (plen + 3 > sizeof(m->prefix))
        return wh_errorf(err, err_size, "static prefix too long");
    m->prefix[0] = '/';
    memcpy(m->prefix + 1, prefix, plen);
    m->prefix_len = plen ? plen + 2 : 1;
    m->prefix[m->prefix_len - 1] = '/';
    m->prefix[m->prefix_len] = '\0';
    m->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (m->root_fd < 0)
        return wh_errorf(err, err_size, "cannot serve static files from %s: %s", root,
                         strerror(errno));
    m->root = strdup(root);
    if (m->root == NULL) {
        close(m->root_fd);
        return wh_errorf(err, err_size, "out of memory");
    }
    m->media = media;
    m->manifest = (wh_manifest_t){NULL, 0};
    m->manifest_name[0] = '\0';
    if (!media) {
        char path[PATH_MAX];
        if (manifest == NULL &&
            snprintf(path, sizeof(path), "%s/%s", root, MANIFEST_NAME) < (int)sizeof(path))
            manifest = path;
        if (manifest != NULL && wh_manifest_load(&m->manifest, manifest) != 0)
            wh_log(WH_LOG_WARNING, "cannot read %s: hashed files get the short max-age", manifest);
        /* The name for the log line; a longer one than a file name can be is left out. */
        const char *slash = manifest ? strrchr(manifest, '/') : NULL;
        int n = snprintf(m->manifest_name, sizeof(m->manifest_name), "%s",
                         slash      ? slash + 1
                         : manifest ? manifest
                                    : "");
        if (n < 0 || (size_t)n >= sizeof(m->manifest_name))
            m->manifest_name[0] = '\0';
    }
    s->mount_count++;
    return 0;
}

void wh_static_log_mounts(const wh_static_t *s)
{
    for (size_t i = 0; i < s->mount_count; i++) {
        const mount_t *m = &s->mounts[i];
        wh_log(WH_LOG_INFO, "Serving %s files: %s from %s%s%s%s", m->media ? "media" : "static",
               m->prefix, m->root, m->manifest.count ? " (manifest: " : "", m->manifest_name,
               m->manifest.count ? ")" : "");
    }
    wh_log(WH_LOG_DEBUG, "static files resolved with %s",
           wh_static_open_uses_openat2() ? "openat2(RESOLVE_BENEATH)" : "the O_NOFOLLOW walk");
}

int wh_static_mount_spec(wh_static_t *s, const char *spec, char *err, size_t err_size)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec || eq[1] == '\0' || spec[0] != '/')
        return wh_errorf(err, err_size, "invalid --static '%s': expected /PREFIX/=DIR", spec);
    char prefix[PREFIX_MAX];
    size_t len = (size_t)(eq - spec);
    if (len >= sizeof(prefix))
        return wh_errorf(err, err_size, "invalid --static '%s': prefix too long", spec);
    memcpy(prefix, spec, len);
    prefix[len] = '\0';
    return wh_static_mount(s, prefix, eq + 1, false, NULL, err, err_size);
}

/* ---- answering ---------------------------------------------------------------------------- */

typedef struct {
    wh_header_t h[MAX_HEADERS];
    size_t n;
} headers_t;

static void add(headers_t *hs, const char *name, const char *value)
{
    if (hs->n < MAX_HEADERS)
        hs->h[hs->n++] = (wh_header_t){{name, strlen(name)}, {value, strlen(value)}};
}

static bool header_value(const wh_exchange_t *ex, const char *name, wh_str_t *out)
{
    const wh_header_t *h = wh_request_header(&ex->req, name);
    if (h)
        *out = h->value;
    return h != NULL;
}

/* A short plain-text answer made by the handler (404, 405, ...). */
static bool answer_text(wh_exchange_t *ex, const char *status, headers_t *hs)
{
    const char *text = strchr(status, ' ') + 1;
    char body[VALUE_MAX];
    int len = snprintf(body, sizeof(body), "%s\n", text);
    add(hs, "Content-Type", "text/plain; charset=utf-8");
    ex->local = true;
    int rc = wh_exchange_start(ex, status, strlen(status), hs->h, hs->n, len);
    if (rc == WH_OK)
        rc = wh_exchange_write(ex, body, (size_t)len);
    wh_exchange_finish_local(ex, rc == WH_OK || rc == WH_FULL ? WH_FINISH_OK : WH_FINISH_ERROR);
    return true;
}

static bool answer_status(wh_exchange_t *ex, const char *status)
{
    headers_t hs = {.n = 0};
    return answer_text(ex, status, &hs);
}

/* 301 to the directory's URL with its slash (only with --static-index, as whitenoise does). */
static bool redirect_to_dir(wh_exchange_t *ex)
{
    const wh_str_t *t = &ex->req.target;
    const char *q = memchr(t->ptr, '?', t->len);
    size_t path_len = q ? (size_t)(q - t->ptr) : t->len;
    char location[PATH_MAX];
    int n = snprintf(location, sizeof(location), "%.*s/%.*s", (int)path_len, t->ptr,
                     (int)(t->len - path_len), t->ptr + path_len);
    if (n < 0 || n >= (int)sizeof(location))
        return answer_status(ex, "404 Not Found");
    headers_t hs = {.n = 0};
    add(&hs, "Location", location);
    return answer_text(ex, "301 Moved Permanently", &hs);
}

/* Picks the variant to send: the acceptable one with the highest q, br before gzip before
 * identity on ties. Returns -1 when nothing acceptable exists (406). */
static int choose_variant(const wh_exchange_t *ex, const wh_static_entry_t *e, bool ranged)
{
    if (!e->has_variants || ranged) /* ranges always address the file itself */
        return WH_VARIANT_IDENTITY;
    wh_str_t value = {NULL, 0};
    bool present = header_value(ex, "Accept-Encoding", &value);
    wh_accept_encoding_t acc;
    wh_accept_encoding_parse(value, present, &acc);
    int best = -1, best_q = Q_NONE;
    const int order[] = {WH_VARIANT_BR, WH_VARIANT_GZIP, WH_VARIANT_IDENTITY};
    const int q[] = {acc.br, acc.gzip, acc.identity};
    for (int i = 0; i < 3; i++) {
        if (e->v[order[i]].fd >= 0 && q[i] > best_q) {
            best = order[i];
            best_q = q[i];
        }
    }
    return best;
}

typedef enum { COND_PASS, COND_FAILED, COND_NOT_MODIFIED } condition_t;

/* The preconditions in RFC 9110 §13.2.2's order (the methods here are GET and HEAD): If-Match,
 * else If-Unmodified-Since, failing with 412; then If-None-Match, else If-Modified-Since,
 * giving 304. An invalid date is ignored, as the RFC says. */
static condition_t evaluate_conditions(const wh_exchange_t *ex, const wh_static_entry_t *e,
                                       const char *etag)
{
    wh_str_t value;
    time_t date;
    if (header_value(ex, "If-Match", &value)) {
        if (!wh_etag_list_matches_strong(value, etag))
            return COND_FAILED;
    } else if (header_value(ex, "If-Unmodified-Since", &value) &&
               wh_http_date_parse(value, &date) == 0 && e->mtime > date) {
        return COND_FAILED;
    }
    if (header_value(ex, "If-None-Match", &value))
        return wh_etag_list_matches(value, etag) ? COND_NOT_MODIFIED : COND_PASS;
    if (header_value(ex, "If-Modified-Since", &value) && wh_http_date_parse(value, &date) == 0 &&
        e->mtime <= date)
        return COND_NOT_MODIFIED;
    return COND_PASS;
}

/* If-Range: the range applies only while the validator still matches. */
static bool range_allowed(const wh_exchange_t *ex, const wh_static_entry_t *e)
{
    wh_str_t value;
    if (!header_value(ex, "If-Range", &value))
        return true;
    if (value.len > 0 && (value.ptr[0] == '"' || value.ptr[0] == 'W'))
        return value.len == strlen(e->v[0].etag) && memcmp(value.ptr, e->v[0].etag, value.len) == 0;
    time_t date;
    return wh_http_date_parse(value, &date) == 0 && date == e->mtime;
}

static bool serve_entry(wh_static_t *s, const mount_t *m, wh_exchange_t *ex, wh_static_entry_t *e,
                        const char *rel)
{
    wh_str_t range_value;
    bool ranged = header_value(ex, "Range", &range_value) && range_allowed(ex, e);
    int which = choose_variant(ex, e, ranged);
    headers_t hs = {.n = 0};
    if (e->has_variants)
        add(&hs, "Vary", "Accept-Encoding");
    if (which < 0)
        return answer_text(ex, "406 Not Acceptable", &hs);
    wh_static_variant_t *v = &e->v[which];
    const char *type = wh_mime_type(rel);
    bool immutable = !m->media && wh_manifest_contains(&m->manifest, rel);
    add(&hs, "Cache-Control", immutable ? IMMUTABLE_CACHE : s->cache_control);
    if (s->opts.cors)
        add(&hs, "Access-Control-Allow-Origin", "*");
    add(&hs, "ETag", v->etag);
    add(&hs, "Last-Modified", e->last_modified);
    condition_t cond = evaluate_conditions(ex, e, v->etag);
    if (cond == COND_FAILED)
        return answer_text(ex, "412 Precondition Failed", &hs);
    if (cond == COND_NOT_MODIFIED) {
        ex->local = true;
        int rc = wh_exchange_start(ex, "304 Not Modified", 16, hs.h, hs.n, -1);
        wh_exchange_finish_local(ex, rc == WH_OK ? WH_FINISH_OK : WH_FINISH_ERROR);
        return true;
    }
    add(&hs, "Content-Type", type);
    add(&hs, "Accept-Ranges", "bytes");
    if (which == WH_VARIANT_BR)
        add(&hs, "Content-Encoding", "br");
    else if (which == WH_VARIANT_GZIP)
        add(&hs, "Content-Encoding", "gzip");
    if (m->media) {
        add(&hs, "X-Content-Type-Options", "nosniff");
        if (wh_mime_is_active(type))
            add(&hs, "Content-Disposition", "attachment");
    }
    uint64_t first = 0, length = v->size;
    const char *status = "200 OK";
    char content_range[VALUE_MAX];
    if (ranged) {
        switch (wh_range_parse(range_value, v->size, &first, &length)) {
        case WH_RANGE_NONE:
            break;
        case WH_RANGE_OK:
            status = "206 Partial Content";
            snprintf(content_range, sizeof(content_range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                     first, first + length - 1, v->size);
            add(&hs, "Content-Range", content_range);
            break;
        case WH_RANGE_UNSATISFIABLE:
            snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64, v->size);
            add(&hs, "Content-Range", content_range);
            ex->local = true;
            int rc = wh_exchange_start(ex, "416 Range Not Satisfiable", 25, hs.h, hs.n, 0);
            wh_exchange_finish_local(ex, rc == WH_OK ? WH_FINISH_OK : WH_FINISH_ERROR);
            return true;
        }
    }
    ex->local = true;
    int rc = wh_exchange_start(ex, status, strlen(status), hs.h, hs.n, (int64_t)length);
    if (rc == WH_OK && length > 0 && !ex->head_request) {
        const char *body = wh_static_cache_body(s->cache, v);
        rc = body ? wh_exchange_write(ex, body + first, length)
                  : wh_exchange_sendfile(ex, v->fd, (int64_t)first, (int64_t)length);
    }
    wh_exchange_finish_local(ex, rc == WH_OK || rc == WH_FULL ? WH_FINISH_OK : WH_FINISH_ERROR);
    return true;
}

/* Methods are case-sensitive (RFC 9110 9.1). */
static bool method_is(wh_str_t method, const char *name)
{
    return method.len == strlen(name) && memcmp(method.ptr, name, method.len) == 0;
}

static const mount_t *match_mount(const wh_static_t *s, wh_str_t path)
{
    const mount_t *best = NULL;
    for (size_t i = 0; i < s->mount_count; i++) {
        const mount_t *m = &s->mounts[i];
        if (path.len >= m->prefix_len && memcmp(path.ptr, m->prefix, m->prefix_len) == 0 &&
            (best == NULL || m->prefix_len > best->prefix_len))
            best = m;
    }
    return best;
}

bool wh_static_handle(void *ctx, wh_exchange_t *ex)
{
    wh_static_t *s = ctx;
    const mount_t *m = match_mount(s, ex->req.path);
    if (m == NULL)
        return false;
    size_t mount = (size_t)(m - s->mounts);
    wh_str_t path = ex->req.path;
    wh_static_path_kind_t kind = wh_static_path_normalize(
        path.ptr + m->prefix_len, path.len - m->prefix_len, s->rel, sizeof(s->rel));
    /* A path the resolver refuses (dot segments, hidden names, empty segments) is never a file
     * here: a 404, or with --static-fallthrough the app's, as for any other non-file. */
    if (kind == WH_STATIC_PATH_INVALID)
        return s->opts.fallthrough ? false : answer_status(ex, "404 Not Found");
    wh_static_entry_t *e = wh_static_cache_get(s->cache, mount, m->root_fd, s->rel);
    if (e && e->is_dir) {
        if (!s->opts.index)
            e = NULL;
        else if (kind == WH_STATIC_PATH_FILE)
            return redirect_to_dir(ex);
        else {
            size_t len = strlen(s->rel);
            snprintf(s->rel + len, sizeof(s->rel) - len, "%s%s", len ? "/" : "", INDEX_NAME);
            e = wh_static_cache_get(s->cache, mount, m->root_fd, s->rel);
            if (e && e->is_dir)
                e = NULL;
        }
    } else if (e && kind == WH_STATIC_PATH_DIR) {
        e = NULL; /* "file.css/" */
    }
    if (e == NULL)
        return s->opts.fallthrough ? false : answer_status(ex, "404 Not Found");
    if (!method_is(ex->req.method, "GET") && !method_is(ex->req.method, "HEAD")) {
        headers_t hs = {.n = 0};
        add(&hs, "Allow", ALLOW_METHODS);
        return answer_text(ex, "405 Method Not Allowed", &hs);
    }
    return serve_entry(s, m, ex, e, s->rel);
}
