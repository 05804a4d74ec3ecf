#include "server/static/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/core/util.h"
#include "server/static/open.h"
#include "server/static/parse.h"

enum { HASH_BUCKETS = 2 * WH_STATIC_CACHE_ENTRIES }; /* a power of two */
static const uint32_t FNV_OFFSET = 2166136261u, FNV_PRIME = 16777619u;
static const char *const VARIANT_SUFFIX[WH_VARIANT_COUNT] = {"", ".br", ".gz"};

struct wh_static_cache {
    wh_static_entry_t *buckets[HASH_BUCKETS];
    wh_static_entry_t *lru_head; /* most recently used */
    wh_static_entry_t *lru_tail;
    size_t count;
    size_t small_bytes; /* memory taken by cached bodies */
};

static uint32_t hash_key(size_t mount, const char *rel)
{
    uint32_t h = FNV_OFFSET ^ (uint32_t)mount;
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
        h = (h ^ *p) * FNV_PRIME;
    return h;
}

wh_static_cache_t *wh_static_cache_new(void)
{
    return calloc(1, sizeof(wh_static_cache_t));
}

static void entry_free(wh_static_cache_t *c, wh_static_entry_t *e)
{
    for (int i = 0; i < WH_VARIANT_COUNT; i++) {
        if (e->v[i].fd >= 0)
            close(e->v[i].fd);
        if (e->v[i].body) {
            c->small_bytes -= e->v[i].size;
            free(e->v[i].body);
        }
    }
    free(e->rel);
    free(e);
}

/* Takes the entry out of its bucket and the LRU list. */
static void unlink_entry(wh_static_cache_t *c, wh_static_entry_t *e)
{
    wh_static_entry_t **pp = &c->buckets[e->hash & (HASH_BUCKETS - 1)];
    while (*pp != e)
        pp = &(*pp)->hash_next;
    *pp = e->hash_next;
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    c->count--;
}

static void link_entry(wh_static_cache_t *c, wh_static_entry_t *e)
{
    wh_static_entry_t **bucket = &c->buckets[e->hash & (HASH_BUCKETS - 1)];
    e->hash_next = *bucket;
    *bucket = e;
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = e;
    else
        c->lru_tail = e;
    c->lru_head = e;
    c->count++;
}

static void touch(wh_static_cache_t *c, wh_static_entry_t *e)
{
    if (c->lru_head == e)
        return;
    e->lru_prev->lru_next = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    e->lru_prev = NULL;
    e->lru_next = c->lru_head;
    c->lru_head->lru_prev = e;
    c->lru_head = e;
}

void wh_static_cache_free(wh_static_cache_t *c)
{
    if (c == NULL)
        return;
    while (c->lru_head) {
        wh_static_entry_t *e = c->lru_head;
        unlink_entry(c, e);
        entry_free(c, e);
    }
    free(c);
}

/* Opens and stats one variant. Returns 0 (found: fd set), or -1 (v->fd stays -1). A directory
 * is reported through *is_dir with no descriptor kept. */
static int open_variant(int root_fd, const char *rel, wh_variant_t which, wh_static_variant_t *v,
                        bool *is_dir)
{
    char path[PATH_MAX];
    v->fd = -1;
    if (snprintf(path, sizeof(path), "%s%s", rel, VARIANT_SUFFIX[which]) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = wh_static_open(root_fd, path);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode) && which == WH_VARIANT_IDENTITY) {
        close(fd);
        *is_dir = true;
        return 0;
    }
    if (!S_ISREG(st.st_mode)) { /* devices, FIFOs, sockets: never */
        close(fd);
        errno = EACCES;
        return -1;
    }
    v->fd = fd;
    v->size = (uint64_t)st.st_size;
    v->dev = st.st_dev;
    v->ino = st.st_ino;
    v->mtime = st.st_mtim;
    /* nginx's form (mtime and size in hex) with the mtime's nanoseconds: two same-size writes
     * within one second get different tags. A variant's own size keeps its tag distinct. */
    snprintf(v->etag, sizeof(v->etag), "\"%llx.%lx-%llx%s\"", (unsigned long long)st.st_mtim.tv_sec,
             (unsigned long)st.st_mtim.tv_nsec, (unsigned long long)st.st_size,
             which == WH_VARIANT_IDENTITY ? "" : "-z");
    return 0;
}

/* A fresh entry from the file system, or NULL (errno set). */
static wh_static_entry_t *load(size_t mount, int root_fd, const char *rel, uint32_t hash)
{
    wh_static_entry_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    for (int i = 0; i < WH_VARIANT_COUNT; i++)
        e->v[i].fd = -1;
    e->rel = strdup(rel);
    if (e->rel == NULL || open_variant(root_fd, rel, WH_VARIANT_IDENTITY, &e->v[0], &e->is_dir)) {
        int saved = errno;
        free(e->rel);
        free(e);
        errno = saved;
        return NULL;
    }
    e->hash = hash;
    e->mount = mount;
    e->checked_ms = (int64_t)wh_monotonic_ms();
    if (e->is_dir)
        return e;
    bool ignored = false;
    for (int i = WH_VARIANT_BR; i < WH_VARIANT_COUNT; i++) {
        if (open_variant(root_fd, rel, (wh_variant_t)i, &e->v[i], &ignored) == 0)
            e->has_variants = true;
    }
    e->mtime = e->v[0].mtime.tv_sec;
    wh_http_date_format(e->mtime, e->last_modified);
    return e;
}

static bool same_variant(const wh_static_variant_t *a, const wh_static_variant_t *b)
{
    if ((a->fd < 0) != (b->fd < 0))
        return false;
    return a->fd < 0 ||
           (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
            a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec);
}

static bool same_entry(const wh_static_entry_t *a, const wh_static_entry_t *b)
{
    if (a->is_dir != b->is_dir)
        return false;
    for (int i = 0; i < WH_VARIANT_COUNT; i++) {
        if (!same_variant(&a->v[i], &b->v[i]))
            return false;
    }
    return true;
}

static wh_static_entry_t *insert(wh_static_cache_t *c, wh_static_entry_t *e)
{
    if (c->count >= WH_STATIC_CACHE_ENTRIES) {
        wh_static_entry_t *old = c->lru_tail;
        unlink_entry(c, old);
        entry_free(c, old);
    }
    link_entry(c, e);
    return e;
}

wh_static_entry_t *wh_static_cache_get(wh_static_cache_t *c, size_t mount, int root_fd,
                                       const char *rel)
{
    uint32_t hash = hash_key(mount, rel);
    wh_static_entry_t *e = c->buckets[hash & (HASH_BUCKETS - 1)];
    while (e && !(e->hash == hash && e->mount == mount && strcmp(e->rel, rel) == 0))
        e = e->hash_next;
    int64_t now = (int64_t)wh_monotonic_ms();
    if (e && now - e->checked_ms < WH_STATIC_RECHECK_MS) {
        touch(c, e);
        return e;
    }
    wh_static_entry_t *fresh = load(mount, root_fd, rel, hash);
    if (e == NULL)
        return fresh ? insert(c, fresh) : NULL;
    if (fresh == NULL) { /* deleted (or no longer reachable) */
        int saved = errno;
        unlink_entry(c, e);
        entry_free(c, e);
        errno = saved;
        return NULL;
    }
    if (same_entry(e, fresh)) {
        entry_free(c, fresh);
        e->checked_ms = now;
        touch(c, e);
        return e;
    }
    unlink_entry(c, e);
    entry_free(c, e);
    return insert(c, fresh);
}

const char *wh_static_cache_body(wh_static_cache_t *c, wh_static_variant_t *v)
{
    if (v->body)
        return v->body;
    if (v->fd < 0 || v->size > WH_STATIC_SMALL_FILE ||
        c->small_bytes + v->size > WH_STATIC_SMALL_TOTAL)
        return NULL;
    char *body = malloc(v->size ? v->size : 1);
    if (body == NULL)
        return NULL;
    /* A small file from the page cache: one pread, cheap enough for the loop thread. */
    ssize_t n = pread(v->fd, body, v->size, 0);
    if (n < 0 || (uint64_t)n != v->size) { /* changed under us: send from the descriptor */
        free(body);
        return NULL;
    }
    v->body = body;
    c->small_bytes += v->size;
    return body;
}
