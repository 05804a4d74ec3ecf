/* Static file paths: turns the part of a request path after a static prefix into a relative
 * path that is safe to resolve beneath the mount's root, or refuses it.
 *
 * The request path arrives percent-decoded once. Refused: `..` and `.` segments, empty
 * segments (`a//b`), segments starting with '.' (dot-files, `.git`), backslashes, NUL and other
 * control bytes, and what a second decoding would turn into one of those (`%2e%2e`, `%2f`,
 * `%5c`, `%00`), so a double-encoded traversal is refused even though nothing decodes twice. A
 * path ending in '/' names a directory. Pure functions, safe from any thread. */
#ifndef WSGIHOST_STATIC_PATH_H
#define WSGIHOST_STATIC_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest relative path accepted (the kernel's PATH_MAX less room for "/index.html"). */
enum { WH_STATIC_PATH_MAX = 4000 };

typedef enum {
    WH_STATIC_PATH_FILE,    /* `out` names a file (or a directory without the slash) */
    WH_STATIC_PATH_DIR,     /* the path ended in '/' (or was empty): `out` is the directory,
                               "" for the root itself, else without the trailing slash */
    WH_STATIC_PATH_INVALID, /* refused: answer 404 */
} wh_static_path_kind_t;

/* Checks `path` (len bytes, not NUL-terminated, without the prefix and its slash) and writes
 * the relative path, NUL-terminated, into out (out_size >= len + 1). */
wh_static_path_kind_t wh_static_path_normalize(const char *path, size_t len, char *out,
                                               size_t out_size);

#endif
