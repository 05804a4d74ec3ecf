/* The static file cache: open descriptors, stat results and ready-made header values for the
 * files a worker serves, with their precompressed variants (.br, .gz) and, for small files,
 * the bytes themselves. Loop thread only.
 *
 * Entries are checked again against the file system at most once per WH_STATIC_RECHECK_MS: a
 * changed, replaced or deleted file is noticed within that time, and a hot file costs no
 * system call in between. The cache holds at most WH_STATIC_CACHE_ENTRIES entries (least
 * recently used ones go first), so descriptors and memory stay bounded. */
#ifndef WSGIHOST_STATIC_CACHE_H
#define WSGIHOST_STATIC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum {
    WH_STATIC_RECHECK_MS = 1000,
    WH_STATIC_CACHE_ENTRIES = 512,
    /* Files up to this size are kept in memory: one copy into the response beats a second
       system call (sendfile) for each request. Measured with bench/static. */
    WH_STATIC_SMALL_FILE = 16 * 1024,
    WH_STATIC_SMALL_TOTAL = 8 * 1024 * 1024, /* memory all small files may take */
    WH_STATIC_ETAG_MAX = 48,
    WH_STATIC_DATE_MAX = 30,
};

typedef enum { WH_VARIANT_IDENTITY, WH_VARIANT_BR, WH_VARIANT_GZIP, WH_VARIANT_COUNT } wh_variant_t;

/* One representation of a file (the file itself, or its .br / .gz sibling). */
typedef struct {
    int fd; /* -1 when this variant does not exist */
    uint64_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    char etag[WH_STATIC_ETAG_MAX]; /* with quotes */
    char *body;                    /* the bytes, for small files once read; else NULL */
} wh_static_variant_t;

typedef struct wh_static_entry {
    /* Cache bookkeeping. */
    struct wh_static_entry *hash_next;
    struct wh_static_entry *lru_prev, *lru_next;
    uint32_t hash;
    size_t mount;
    char *rel;
    int64_t checked_ms;

    bool is_dir;
    bool has_variants;
    wh_static_variant_t v[WH_VARIANT_COUNT];
    char last_modified[WH_STATIC_DATE_MAX];
    time_t mtime; /* of the file itself, for If-Modified-Since */
} wh_static_entry_t;

typedef struct wh_static_cache wh_static_cache_t;

wh_static_cache_t *wh_static_cache_new(void);
void wh_static_cache_free(wh_static_cache_t *c);

/* The entry for `rel` under mount number `mount` whose root is `root_fd`: from the cache when
 * checked recently, else opened (safely, see server/static/open.h) and stat'ed. NULL when there
 * is no such file (or it cannot be opened); errno says why. The entry stays valid until the
 * next call. */
wh_static_entry_t *wh_static_cache_get(wh_static_cache_t *c, size_t mount, int root_fd,
                                       const char *rel);

/* The bytes of a small variant (read once, kept), or NULL when the variant is large or cannot
 * be read: then send it from its descriptor. */
const char *wh_static_cache_body(wh_static_cache_t *c, wh_static_variant_t *v);

#endif
