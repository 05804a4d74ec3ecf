/* Fuzz target: static file path resolution (wh_static_path_normalize).
 *
 * Input: the request path after the static prefix, as the parser hands it on (decoded once).
 * Checked: an accepted path comes out as it went in (less a trailing '/'), and cannot reach
 * outside the root even if something decoded it a second time: no empty, '.' or '..' segment,
 * no leading '/', no dot-file, no backslash or control byte, before or after one more
 * percent-decoding. An output buffer one byte short is refused, never overrun. */
#include <stdbool.h>
#include <string.h>

#include "server/core/util.h"
#include "server/static/path.h"
#include "tests/fuzz/fuzz.h"

/* A path beneath the root: segments that are neither empty, '.', '..' nor hidden, with no
 * backslash (a separator on other systems) and no control byte. */
static bool safe(const char *s, size_t len, const char **why)
{
    if (len == 0)
        return true;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        size_t n = i - start;
        if (n == 0) {
            *why = "empty segment (or leading '/')";
            return false;
        }
        if (s[start] == '.') {
            *why = "segment starting with '.'";
            return false;
        }
        start = i + 1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            *why = "control byte or backslash";
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size ? size : 1), *out = malloc(size + 1);
    FUZZ_CHECK(path && out, "out of memory");
    memcpy(path, data, size);
    wh_static_path_kind_t kind = wh_static_path_normalize(path, size, out, size + 1);
    if (kind != WH_STATIC_PATH_INVALID) {
        bool dir = size == 0 || path[size - 1] == '/';
        FUZZ_CHECK(kind == (dir ? WH_STATIC_PATH_DIR : WH_STATIC_PATH_FILE), "kind %d", kind);
        size_t body = dir && size ? size - 1 : size;
        FUZZ_CHECK(size <= WH_STATIC_PATH_MAX, "accepted %zu bytes", size);
        FUZZ_CHECK(strlen(out) == body && memcmp(out, path, body) == 0, "changed the path");
        const char *why = "";
        FUZZ_CHECK(safe(out, body, &why), "accepted %.*s: %s", (int)body, out, why);
        /* Decoded once more, by a careless layer, it is still beneath the root. */
        char *twice = malloc(body + 1);
        FUZZ_CHECK(twice != NULL, "out of memory");
        size_t n = 0;
        for (size_t i = 0; i < body; i++) {
            int hi, lo;
            if (out[i] == '%' && i + 2 < body &&
                (hi = wh_hex_value((unsigned char)out[i + 1])) >= 0 &&
                (lo = wh_hex_value((unsigned char)out[i + 2])) >= 0) {
                twice[n++] = (char)(hi * 16 + lo);
                i += 2;
            } else {
                twice[n++] = out[i];
            }
        }
        FUZZ_CHECK(safe(twice, n, &why), "accepted %.*s, unsafe decoded twice: %s", (int)body, out,
                   why);
        FUZZ_CHECK(memchr(twice, '\0', n) == NULL, "NUL after decoding twice");
        free(twice);
        /* One byte short: refused, nothing written past it (ASan). */
        if (size > 0) {
            char *short_out = malloc(size);
            FUZZ_CHECK(short_out != NULL, "out of memory");
            FUZZ_CHECK(wh_static_path_normalize(path, size, short_out, size) ==
                           WH_STATIC_PATH_INVALID,
                       "accepted with a short buffer");
            free(short_out);
        }
    }
    free(path);
    free(out);
    return 0;
}
