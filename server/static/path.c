#include "server/static/path.h"
#include "server/core/util.h"

#include <string.h>

/* True when bytes at p would decode (a second time) into something a path must not hold. */
static bool dangerous_escape(const char *p, size_t left)
{
    if (left < 3 || p[0] != '%')
        return false;
    int hi = wh_hex_value((unsigned char)p[1]), lo = wh_hex_value((unsigned char)p[2]);
    if (hi < 0 || lo < 0)
        return false;
    int c = hi * 16 + lo;
    return c == '.' || c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7f;
}

static bool segment_ok(const char *seg, size_t len)
{
    if (len == 0 || seg[0] == '.') /* empty, ".", "..", dot-files */
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || dangerous_escape(seg + i, len - i))
            return false;
    }
    return true;
}

wh_static_path_kind_t wh_static_path_normalize(const char *path, size_t len, char *out,
                                               size_t out_size)
{
    if (len > WH_STATIC_PATH_MAX || out_size < len + 1)
        return WH_STATIC_PATH_INVALID;
    bool dir = len == 0 || path[len - 1] == '/';
    size_t body = dir && len > 0 ? len - 1 : len;
    if (body > 0 && path[0] == '/') /* "//etc/passwd": absolute after the prefix */
        return WH_STATIC_PATH_INVALID;
    size_t start = 0;
    for (size_t i = 0; i <= body; i++) {
        if (i < body && path[i] != '/')
            continue;
        if (body > 0 && !segment_ok(path + start, i - start))
            return WH_STATIC_PATH_INVALID;
        start = i + 1;
    }
    memcpy(out, path, body);
    out[body] = '\0';
    return dir ? WH_STATIC_PATH_DIR : WH_STATIC_PATH_FILE;
}
