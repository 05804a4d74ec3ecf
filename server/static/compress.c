#include "server/static/compress.h"

#include <brotli/encode.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum {
    MIN_SIZE = 256,               /* below this, headers cost more than compression saves */
    MAX_SIZE = 256 * 1024 * 1024, /* read whole into memory: refuse absurd files */
    GZIP_WINDOW_BITS = 15 + 16,   /* 15: the largest window; +16: gzip format, not zlib */
    GZIP_MEM_LEVEL = 8,           /* zlib's default */
    GZIP_LEVEL = 9,
    NFTW_FDS = 32,
};
/* Keep a variant only when it saves at least 5% (whitenoise's rule). */
#define KEEP_RATIO 0.95

/* Already compressed formats: compressing them again only wastes time and disk. */
static const char *const SKIP_EXTENSIONS[] = {
    "7z",  "avif", "br",  "bz2", "gif",  "gz",   "heic", "jpeg",  "jpg", "mp3", "mp4",
    "ogg", "png",  "rar", "tgz", "webm", "webp", "woff", "woff2", "xz",  "zip", "zst",
};

typedef struct {
    unsigned files;
    unsigned written;
    unsigned errors;
    bool quiet;
} stats_t;

static stats_t stats; /* nftw takes no context pointer */

int wh_compress_gzip(const void *data, size_t len, void **out, size_t *out_len)
{
    z_stream z = {0};
    if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, (uLong)len) + 32; /* +gzip header and trailer */
    unsigned char *buf = malloc(cap);
    if (buf == NULL) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t produced = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = produced;
    return 0;
}

int wh_compress_brotli(const void *data, size_t len, void **out, size_t *out_len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(len);
    if (cap == 0)
        return -1;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    size_t produced = cap;
    if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, len,
                               data, &produced, buf)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = produced;
    return 0;
}

static bool compressible(const char *path, const struct stat *st)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (base[0] == '.' || st->st_size < MIN_SIZE || st->st_size > MAX_SIZE)
        return false;
    const char *dot = strrchr(base, '.');
    if (dot == NULL)
        return true;
    for (size_t i = 0; i < sizeof(SKIP_EXTENSIONS) / sizeof(SKIP_EXTENSIONS[0]); i++) {
        if (strcasecmp(dot + 1, SKIP_EXTENSIONS[i]) == 0)
            return false;
    }
    return true;
}

static int read_whole(const char *path, size_t size, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        got += (size_t)n;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    *out = buf;
    return buf ? 0 : -1;
}

/* Writes `data` to `path` through a temporary file and a rename, so a server never sees half
 * a variant. */
static int write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    int rc = left == 0 && fchmod(fd, 0644) == 0 ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) == 0)
        return 0;
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
}

typedef int (*compress_fn)(const void *, size_t, void **, size_t *);

/* Makes one variant; keeps it only when clearly smaller, else removes any stale one. */
static void make_variant(const char *path, const char *data, size_t len, const char *suffix,
                         compress_fn fn)
{
    char vpath[PATH_MAX];
    if (snprintf(vpath, sizeof(vpath), "%s%s", path, suffix) >= (int)sizeof(vpath)) {
        fprintf(stderr, "wsgihost compress-static: %s: name too long\n", path);
        stats.errors++;
        return;
    }
    void *out = NULL;
    size_t out_len = 0;
    if (fn(data, len, &out, &out_len) != 0) {
        fprintf(stderr, "wsgihost compress-static: %s: compression failed\n", path);
        stats.errors++;
        return;
    }
    if ((double)out_len < (double)len * KEEP_RATIO) {
        if (write_atomic(vpath, out, out_len) != 0) {
            fprintf(stderr, "wsgihost compress-static: cannot write %s: %s\n", vpath,
                    strerror(errno));
            stats.errors++;
        } else {
            stats.written++;
            if (!stats.quiet)
                printf("%s (%zu -> %zu bytes)\n", vpath, len, out_len);
        }
    } else if (unlink(vpath) != 0 && errno != ENOENT) {
        fprintf(stderr, "wsgihost compress-static: cannot remove stale %s: %s\n", vpath,
                strerror(errno));
        stats.errors++;
    }
    free(out);
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || !S_ISREG(st->st_mode) || !compressible(path, st))
        return 0;
    char *data = NULL;
    if (read_whole(path, (size_t)st->st_size, &data) != 0) {
        fprintf(stderr, "wsgihost compress-static: cannot read %s: %s\n", path, strerror(errno));
        stats.errors++;
        return 0;
    }
    stats.files++;
    make_variant(path, data, (size_t)st->st_size, ".br", wh_compress_brotli);
    make_variant(path, data, (size_t)st->st_size, ".gz", wh_compress_gzip);
    free(data);
    return 0;
}

int wh_compress_tree(const char *dir, bool quiet, wh_compress_stats_t *out)
{
    stats = (stats_t){.quiet = quiet};
    /* FTW_PHYS: links are not followed, so nothing outside DIR is touched. */
    if (nftw(dir, visit, NFTW_FDS, FTW_PHYS) != 0) {
        fprintf(stderr, "wsgihost compress-static: cannot walk %s: %s\n", dir, strerror(errno));
        stats.errors++;
    }
    *out = (wh_compress_stats_t){stats.files, stats.written, stats.errors};
    return stats.errors ? -1 : 0;
}
