#include "server/http/response.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 9110 section 5.6.2 tchar, as two bitmaps of the ASCII range (every header name of every
 * response is checked, twice for the app's: when pyglue takes it and when it is queued). */
#define BIT(c) ((uint64_t)1 << ((unsigned)(c)&63))
#define RANGE(from, to) ((BIT(to) << 1) - BIT(from)) /* from..to within one half */
static const uint64_t TCHAR_LOW = RANGE('0', '9') | BIT('!') | BIT('#') | BIT('$') | BIT('%') |
                                  BIT('&') | BIT('\'') | BIT('*') | BIT('+') | BIT('-') | BIT('.');
static const uint64_t TCHAR_HIGH =
    RANGE('A', 'Z') | RANGE('a', 'z') | BIT('^') | BIT('_') | BIT('`') | BIT('|') | BIT('~');

bool wh_is_tchar(unsigned char c)
{
    if (c < 64)
        return (TCHAR_LOW >> c) & 1;
    return c < 128 && ((TCHAR_HIGH >> (c - 64)) & 1);
}

int wh_status_parse(const char *status, size_t len)
{
    if (len < 4 || status[3] != ' ')
        return -1;
    int code = 0;
    for (int i = 0; i < 3; i++) {
        if (status[i] < '0' || status[i] > '9')
            return -1;
        code = code * 10 + (status[i] - '0');
    }
    if (code < 100 || code > 599) /* RFC 9110 §15: the classes 1xx to 5xx */
        return -1;
    for (size_t i = 4; i < len; i++) {
        unsigned char c = (unsigned char)status[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -1;
    }
    return code;
}

bool wh_header_valid(const wh_header_t *h)
{
    if (h->name.len == 0)
        return false;
    for (size_t i = 0; i < h->name.len; i++) {
        if (!wh_is_tchar((unsigned char)h->name.ptr[i]))
            return false;
    }
    for (size_t i = 0; i < h->value.len; i++) {
        unsigned char c = (unsigned char)h->value.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

bool wh_header_is_hop_by_hop(wh_str_t name)
{
    static const char *const hop[] = {"Connection",          "Keep-Alive", "Proxy-Authenticate",
                                      "Proxy-Authorization", "TE",         "Trailer",
                                      "Transfer-Encoding",   "Upgrade",    "Proxy-Connection"};
    for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++) {
        if (wh_name_equals(name, hop[i]))
            return true;
    }
    return false;
}

int wh_parse_content_length(wh_str_t value, uint64_t *out)
{
    if (value.len == 0 || value.len > 19) /* 19 digits always fit in 63 bits */
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < value.len; i++) {
        char c = value.ptr[i];
        if (c < '0' || c > '9')
            return -1;
        n = n * 10 + (uint64_t)(c - '0');
    }
    *out = n;
    return 0;
}

void wh_http_date(char out[WH_HTTP_DATE_LEN + 1])
{
    static _Thread_local time_t cached_at = -1;
    static _Thread_local char cached[WH_HTTP_DATE_LEN + 1];
    time_t now = time(NULL);
    if (now != cached_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    memcpy(out, cached, WH_HTTP_DATE_LEN + 1);
}

int wh_response_head(wh_buf_t *out, const char *status, size_t status_len,
                     const wh_header_t *headers, size_t count, const wh_head_opts_t *opts)
{
    /* We speak HTTP/1.1 to HTTP/1.0 clients too, as RFC 9110 §6.2 intends: the version says
     * what the server supports, and the framing below stays within what 1.0 understands. */
    char date[WH_HTTP_DATE_LEN + 1];
    wh_http_date(date);
    size_t need = 9 + status_len + 2 + 64 + WH_HTTP_DATE_LEN + 96;
    for (size_t i = 0; i < count; i++)
        need += headers[i].name.len + headers[i].value.len + 4;
    if (wh_buf_reserve(out, need) != 0)
        return -1;
    int rc = wh_buf_append(out, "HTTP/1.1 ", 9);
    rc |= wh_buf_append(out, status, status_len);
    rc |= wh_buf_append(out, "\r\n", 2);
    for (size_t i = 0; i < count; i++) {
        if (wh_header_is_hop_by_hop(headers[i].name))
            continue;
        rc |= wh_buf_append(out, headers[i].name.ptr, headers[i].name.len);
        rc |= wh_buf_append(out, ": ", 2);
        rc |= wh_buf_append(out, headers[i].value.ptr, headers[i].value.len);
        rc |= wh_buf_append(out, "\r\n", 2);
    }
    rc |= wh_buf_printf(out, "Date: %s\r\nServer: " WH_SERVER_NAME "\r\n", date);
    if (opts->framing == WH_FRAMING_LENGTH)
        rc |= wh_buf_printf(out, "Content-Length: %llu\r\n", (unsigned long long)opts->length);
    else if (opts->framing == WH_FRAMING_CHUNKED)
        rc |= wh_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
    if (!opts->keep_alive)
        rc |= wh_buf_append_str(out, "Connection: close\r\n");
    else if (opts->http10)
        rc |= wh_buf_append_str(out, "Connection: keep-alive\r\n");
    rc |= wh_buf_append(out, "\r\n", 2);
    return rc ? -1 : 0;
}

int wh_chunk_begin(wh_buf_t *out, uint64_t len)
{
    return wh_buf_printf(out, "%llx\r\n", (unsigned long long)len);
}

int wh_chunk_end(wh_buf_t *out)
{
    return wh_buf_append(out, "\r\n", WH_CHUNK_TRAILER_LEN);
}

int wh_chunk_last(wh_buf_t *out)
{
    return wh_buf_append(out, "0\r\n\r\n", WH_CHUNK_LAST_LEN);
}

const char *wh_status_reason(int code)
{
    switch (code) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

int wh_response_simple(wh_buf_t *out, int code, const char *detail, const char *extra_headers,
                       bool close)
{
    const char *reason = wh_status_reason(code);
    char body[512];
    int body_len =
        snprintf(body, sizeof(body), "%s%s%s\n", reason, detail ? ": " : "", detail ? detail : "");
    if (body_len < 0)
        return -1;
    if ((size_t)body_len >= sizeof(body))
        body_len = (int)sizeof(body) - 1;
    char date[WH_HTTP_DATE_LEN + 1];
    wh_http_date(date);
    return wh_buf_printf(out,
                         "HTTP/1.1 %d %s\r\nContent-Type: " WH_SIMPLE_CONTENT_TYPE "\r\n"
                         "Content-Length: %d\r\nDate: %s\r\nServer: " WH_SERVER_NAME
                         "\r\n%s%s\r\n%.*s",
                         code, reason, body_len, date, extra_headers ? extra_headers : "",
                         close ? "Connection: close\r\n" : "", body_len, body);
}
