/* The pre-scan of request bytes (see server/http/prescan.h). */
#include "server/http/prescan.h"

#include <string.h>

#include "server/http/response.h"

enum {
    S_START,      /* before the request line: empty lines are skipped (RFC 9112 §2.2) */
    S_START_LF,   /* a CR of an empty line: LF must follow */
    S_METHOD,     /* in the method */
    S_HEAD,       /* the rest of the head, to its blank line */
    S_AT_BODY,    /* the head is out: waiting for wh_prescan_body */
    S_RAW,        /* no body or a Content-Length body: llhttp frames it */
    S_SIZE,       /* hex digits of a chunk size */
    S_EXT_NAME0,  /* after ';': the first byte of an extension name */
    S_EXT_NAME,   /* in an extension name */
    S_EXT_VALUE0, /* after '=': a token or a quoted string */
    S_EXT_TOKEN,  /* in a token value */
    S_EXT_QUOTED, /* in a quoted-string value */
    S_EXT_ESCAPE, /* after a backslash in a quoted string */
    S_EXT_CLOSED, /* after the closing quote */
    S_SIZE_LF,    /* the CR ending a chunk-size line is out: LF must follow */
    S_DATA,       /* chunk data; chunk_size bytes to go */
    S_DATA_CR,    /* the CRLF after chunk data */
    S_DATA_LF,
    S_TRAILER, /* after the last chunk: llhttp parses the trailer section to its end */
};

static const char CONNECT[] = "CONNECT";
enum { CONNECT_LEN = sizeof(CONNECT) - 1 };
/* Hex digits of a chunk size that fit in 64 bits. */
enum { SIZE_DIGITS_MAX = 16 };

void wh_prescan_reset(wh_prescan_t *s)
{
    memset(s, 0, sizeof(*s));
    s->state = S_START;
}

static wh_scan_action_t refuse(wh_prescan_t *s, int status, const char *detail)
{
    s->status = status;
    s->detail = detail;
    return WH_SCAN_ERROR;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* RFC 9110 §5.6.4 qdtext and the octets of a quoted-pair. */
static bool is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

static bool is_quoted_pair_octet(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The head after the method: up to the end of the blank line, refusing NUL, bare LF and
 * obs-fold. The whole stretch available is checked before any of it is handed out, so a
 * refused head never reaches llhttp's callbacks. */
static wh_scan_action_t scan_head(wh_prescan_t *s, const char *data, size_t len, size_t *n)
{
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == 0)
            return refuse(s, 400, "NUL byte in the request head");
        if (c == '\n') {
            if (s->prev != '\r')
                return refuse(s, 400, "bare LF in the request head");
            bool blank = s->line_len == 0;
            s->line_len = 0;
            s->in_request_line = false;
            s->prev = c;
            if (blank) {
                s->state = S_AT_BODY;
                i++;
                break;
            }
            continue;
        }
        if (c != '\r') {
            /* RFC 9112 §3: single spaces between the three parts of the request line. */
            if (s->in_request_line && (c == '\t' || (c == ' ' && s->prev == ' ')))
                return refuse(s, 400, "extra whitespace in the request line");
            if (s->line_len == 0 && (c == ' ' || c == '\t'))
                return refuse(s, 400, "obsolete line folding or whitespace before a header");
            s->line_len++;
        } else if (s->prev == '\r') {
            return refuse(s, 400, "bare CR in the request head");
        }
        s->prev = c;
    }
    *n = i;
    return WH_SCAN_FEED;
}

static wh_scan_action_t scan_start(wh_prescan_t *s, const char *data, size_t *n)
{
    unsigned char c = (unsigned char)data[0];
    if (s->state == S_START_LF) {
        if (c != '\n')
            return refuse(s, 400, "bare CR before the request line");
        /* Skipped without a timeout of their own: a client trickling them must not hold an
         * idle connection forever. */
        if (++s->empty_lines > WH_EMPTY_LINES_MAX)
            return refuse(s, 400, "too many empty lines before the request line");
        s->state = S_START;
        *n = 1;
        return WH_SCAN_SKIP;
    }
    if (c == '\r') {
        s->state = S_START_LF;
        *n = 1;
        return WH_SCAN_SKIP;
    }
    if (c == '\n')
        return refuse(s, 400, "bare LF in the request head");
    if (c == 0)
        return refuse(s, 400, "NUL byte in the request head");
    s->state = S_METHOD;
    s->is_connect = true;
    *n = 0;
    return WH_SCAN_METHOD; /* n == 0: the caller asks again, now in S_METHOD */
}

static wh_scan_action_t scan_method(wh_prescan_t *s, const char *data, size_t len, size_t *n)
{
    size_t i = 0;
    while (i < len && wh_is_tchar((unsigned char)data[i])) {
        if (s->is_connect)
            s->is_connect = s->method_len < CONNECT_LEN && data[i] == CONNECT[s->method_len];
        s->method_len++;
        i++;
    }
    if (i > 0) {
        *n = i;
        return WH_SCAN_METHOD;
    }
    if (data[0] != ' ' || s->method_len == 0)
        return data[0] == 0 ? refuse(s, 400, "NUL byte in the request head")
                            : refuse(s, 400, "invalid method");
    s->is_connect = s->is_connect && s->method_len == CONNECT_LEN;
    s->state = S_HEAD;
    s->in_request_line = true;
    s->prev = ' ';
    s->line_len = s->method_len + 1;
    *n = 1;
    return WH_SCAN_METHOD_END;
}

/* Counts a byte of a chunk-size line against the line limit. */
static bool line_byte(wh_prescan_t *s)
{
    return ++s->line_bytes <= WH_CHUNK_LINE_MAX;
}

static wh_scan_action_t line_too_long(wh_prescan_t *s)
{
    return refuse(s, 413, "chunk-size line (chunk extensions) too long");
}

/* The CR that ends a chunk-size line: handed to llhttp after the digits. */
static wh_scan_action_t end_size_line(wh_prescan_t *s, size_t *n)
{
    if (s->size_digits == 0)
        return refuse(s, 400, "chunk size missing");
    s->state = S_SIZE_LF;
    *n = 1;
    return WH_SCAN_FEED;
}

static wh_scan_action_t scan_size(wh_prescan_t *s, const char *data, size_t len, size_t *n)
{
    size_t i = 0;
    for (; i < len; i++) {
        int d = hex_digit((unsigned char)data[i]);
        if (d < 0)
            break;
        if (!line_byte(s))
            return line_too_long(s);
        if (s->chunk_size >> (64 - 4) != 0)
            return refuse(s, 400, "chunk size too large");
        s->chunk_size = s->chunk_size << 4 | (uint64_t)d;
        s->size_digits++;
    }
    if (i > 0) {
        *n = i;
        return WH_SCAN_FEED;
    }
    if (data[0] == '\r')
        return end_size_line(s, n);
    if (data[0] != ';' || s->size_digits == 0)
        return refuse(s, 400, "malformed chunk size");
    if (!line_byte(s)) /* the ';' opening the extensions: skipped and counted like them */
        return line_too_long(s);
    s->ext_bytes++;
    s->state = S_EXT_NAME0;
    *n = 1;
    return WH_SCAN_SKIP;
}

/* chunk-ext = *( ";" chunk-ext-name [ "=" chunk-ext-val ] ), name a token, value a token or a
 * quoted-string (RFC 9112 §7.1.1). The BWS the grammar allows around ';' and '=' is refused:
 * llhttp refuses it too, and whitespace after a chunk size is read differently by different
 * parsers (a smuggling vector). Extensions are skipped: none is understood here. */
static wh_scan_action_t scan_ext(wh_prescan_t *s, const char *data, size_t len, size_t *n)
{
    size_t i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        bool tchar = wh_is_tchar(c);
        if (c == '\r' && i == 0 &&
            (s->state == S_EXT_NAME || s->state == S_EXT_TOKEN || s->state == S_EXT_CLOSED))
            return end_size_line(s, n);
        if (c == '\r')
            break; /* hand out what came before; the CR is looked at next time */
        if (!line_byte(s))
            return line_too_long(s);
        switch (s->state) {
        case S_EXT_NAME0:
            if (!tchar)
                return refuse(s, 400, "malformed chunk extension");
            s->state = S_EXT_NAME;
            break;
        case S_EXT_NAME:
            if (c == '=')
                s->state = S_EXT_VALUE0;
            else if (c == ';')
                s->state = S_EXT_NAME0;
            else if (!tchar)
                return refuse(s, 400, "malformed chunk extension");
            break;
        case S_EXT_VALUE0:
            if (c == '"')
                s->state = S_EXT_QUOTED;
            else if (tchar)
                s->state = S_EXT_TOKEN;
            else
                return refuse(s, 400, "malformed chunk extension");
            break;
        case S_EXT_TOKEN:
            if (c == ';')
                s->state = S_EXT_NAME0;
            else if (!tchar)
                return refuse(s, 400, "malformed chunk extension");
            break;
        case S_EXT_QUOTED:
            if (c == '"')
                s->state = S_EXT_CLOSED;
            else if (c == '\\')
                s->state = S_EXT_ESCAPE;
            else if (!is_qdtext(c))
                return refuse(s, 400, "malformed chunk extension");
            break;
        case S_EXT_ESCAPE:
            if (!is_quoted_pair_octet(c))
                return refuse(s, 400, "malformed chunk extension");
            s->state = S_EXT_QUOTED;
            break;
        case S_EXT_CLOSED:
            if (c != ';')
                return refuse(s, 400, "malformed chunk extension");
            s->state = S_EXT_NAME0;
            break;
        default:
            return refuse(s, 500, "chunk extension scanner state");
        }
        s->ext_bytes++;
    }
    if (i == 0) /* a CR where the extension cannot end */
        return refuse(s, 400, "malformed chunk extension");
    *n = i;
    return WH_SCAN_SKIP;
}

static wh_scan_action_t expect(wh_prescan_t *s, unsigned char c, unsigned char want, int next,
                               size_t *n)
{
    if (c != want)
        return refuse(s, 400, "chunk size or data not followed by CRLF");
    s->state = next;
    *n = 1;
    return WH_SCAN_FEED;
}

static wh_scan_action_t after_size_line(wh_prescan_t *s, unsigned char c, size_t *n)
{
    wh_scan_action_t a = expect(s, c, '\n', S_DATA, n);
    if (a != WH_SCAN_FEED)
        return a;
    if (s->chunk_size == 0)
        s->state = S_TRAILER;
    s->size_digits = 0;
    s->line_bytes = 0;
    return a;
}

wh_scan_action_t wh_prescan_next(wh_prescan_t *s, const char *data, size_t len, size_t *n)
{
    *n = 0;
    switch (s->state) {
    case S_START:
    case S_START_LF: {
        wh_scan_action_t a = scan_start(s, data, n);
        if (a != WH_SCAN_METHOD)
            return a;
        return scan_method(s, data, len, n);
    }
    case S_METHOD:
        return scan_method(s, data, len, n);
    case S_HEAD:
        return scan_head(s, data, len, n);
    case S_AT_BODY:
        return refuse(s, 500, "request framing out of step");
    case S_RAW:
    case S_TRAILER:
        *n = len;
        return WH_SCAN_FEED;
    case S_SIZE:
        return scan_size(s, data, len, n);
    case S_EXT_NAME0:
    case S_EXT_NAME:
    case S_EXT_VALUE0:
    case S_EXT_TOKEN:
    case S_EXT_QUOTED:
    case S_EXT_ESCAPE:
    case S_EXT_CLOSED:
        return scan_ext(s, data, len, n);
    case S_SIZE_LF:
        return after_size_line(s, (unsigned char)data[0], n);
    case S_DATA:
        *n = len < s->chunk_size ? len : (size_t)s->chunk_size;
        s->chunk_size -= *n;
        if (s->chunk_size == 0)
            s->state = S_DATA_CR;
        return WH_SCAN_FEED;
    case S_DATA_CR:
        return expect(s, (unsigned char)data[0], '\r', S_DATA_LF, n);
    case S_DATA_LF:
        return expect(s, (unsigned char)data[0], '\n', S_SIZE, n);
    default:
        return refuse(s, 500, "request scanner state");
    }
}

bool wh_prescan_at_body(const wh_prescan_t *s)
{
    return s->state == S_AT_BODY;
}

void wh_prescan_body(wh_prescan_t *s, bool chunked)
{
    s->state = chunked ? S_SIZE : S_RAW;
    s->chunk_size = 0;
    s->size_digits = 0;
    s->line_bytes = 0;
}

const char *wh_prescan_stand_in(const wh_prescan_t *s)
{
    return s->is_connect ? "CONNECT " : "GET ";
}
