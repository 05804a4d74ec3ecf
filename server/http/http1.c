/* HTTP/1.1 request parsing (see server/http/http1.h). llhttp does the tokenising; this file adds
 * the RFC 9112 rules it leaves open and turns every violation into a status code and a reason. */
#include "server/http/http1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/http/prescan.h"
#include "server/core/util.h"
#include "server/http/response.h"

enum { FIELDS_INITIAL = 16 };
/* "HTTP/1.1" and the two spaces of the request line. */
enum { REQUEST_LINE_OVERHEAD = 10 };
/* ": " between name and value, and the CRLF. */
enum { FIELD_LINE_OVERHEAD = 4 };

static const char DEFAULT_SPOOL_DIR[] = "/tmp";

static wh_http1_t *self(llhttp_t *parser)
{
    return parser->data;
}

/* Records the first violation and stops llhttp. */
static int fail(wh_http1_t *p, int status, const char *detail)
{
    if (p->error_status == 0) {
        p->error_status = status;
        p->error_detail = detail;
    }
    return HPE_USER;
}

static int append(wh_http1_t *p, const char *at, size_t len)
{
    if (wh_buf_append(&p->strings, at, len) != 0)
        return fail(p, 503, "out of memory");
    return 0;
}

static int on_message_begin(llhttp_t *parser)
{
    self(parser)->started = true;
    return 0;
}

static int check_request_line(wh_http1_t *p)
{
    uint32_t max = p->limits->max_request_line;
    if (max && p->method_len + p->target_len + REQUEST_LINE_OVERHEAD > max)
        return fail(p, 414, "request line too long");
    return 0;
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
    wh_http1_t *p = self(parser);
    if (p->target_len == 0)
        p->target_off = (uint32_t)p->strings.len;
    p->target_len += (uint32_t)len;
    return append(p, at, len) ? HPE_USER : check_request_line(p);
}

static int on_version(llhttp_t *parser, const char *at, size_t len)
{
    wh_http1_t *p = self(parser);
    for (size_t i = 0; i < len && p->version_len < sizeof(p->version_text); i++)
        p->version_text[p->version_len++] = at[i];
    return 0;
}

static wh_field_t *current_field(wh_http1_t *p)
{
    return &p->fields[p->field_count - 1];
}

static int check_field_size(wh_http1_t *p, const wh_field_t *f)
{
    /* gunicorn's measure: the whole line, ": " and CRLF included. */
    uint32_t max = p->limits->max_header_field_size;
    if (max && f->name_len + f->value_len + FIELD_LINE_OVERHEAD > max)
        return fail(p, 431, "header field too large");
    return 0;
}

/* Trailer fields are not passed on (they could pose as headers), but they count against the
 * header limits: the number of fields with the head's, each line against the field size. */
static int trailer_bytes(wh_http1_t *p, size_t len, bool name)
{
    if (name && !p->in_trailer_name) {
        uint32_t max = p->limits->max_header_fields;
        p->trailer_count++;
        if (max && p->field_count + p->trailer_count > max)
            return fail(p, 431, "too many header and trailer fields");
        p->trailer_size = 0;
    }
    p->in_trailer_name = name;
    uint32_t max = p->limits->max_header_field_size;
    if (max && len > max)
        return fail(p, 431, "trailer field too large");
    p->trailer_size += (uint32_t)len;
    if (max && p->trailer_size + FIELD_LINE_OVERHEAD > max)
        return fail(p, 431, "trailer field too large");
    return 0;
}

static int on_header_field(llhttp_t *parser, const char *at, size_t len)
{
    wh_http1_t *p = self(parser);
    if (p->head_done)
        return trailer_bytes(p, len, true);
    if (!p->in_name) { /* a new field; otherwise the rest of a name split across reads */
        uint32_t max = p->limits->max_header_fields;
        if (max && p->field_count >= max)
            return fail(p, 431, "too many header fields");
        if (p->field_count == p->field_cap) {
            uint32_t cap = p->field_cap ? p->field_cap * 2 : FIELDS_INITIAL;
            wh_field_t *fields = realloc(p->fields, cap * sizeof(*fields));
            if (fields == NULL)
                return fail(p, 503, "out of memory");
            p->fields = fields;
            p->field_cap = cap;
        }
        p->fields[p->field_count++] = (wh_field_t){(uint32_t)p->strings.len, 0, 0, 0};
        p->in_name = true;
        p->in_value = false;
    }
    wh_field_t *f = current_field(p);
    f->name_len += (uint32_t)len;
    return append(p, at, len) ? HPE_USER : check_field_size(p, f);
}

static int on_header_value(llhttp_t *parser, const char *at, size_t len)
{
    wh_http1_t *p = self(parser);
    if (p->head_done)
        return trailer_bytes(p, len, false);
    wh_field_t *f = current_field(p);
    p->in_name = false;
    if (!p->in_value) {
        p->in_value = true;
        f->value_off = (uint32_t)p->strings.len;
    }
    f->value_len += (uint32_t)len;
    return append(p, at, len) ? HPE_USER : check_field_size(p, f);
}

static bool name_has_underscore(const char *name, uint32_t len)
{
    return memchr(name, '_', len) != NULL;
}

static int on_header_value_complete(llhttp_t *parser)
{
    wh_http1_t *p = self(parser);
    if (p->head_done) {
        p->in_trailer_name = false;
        return 0;
    }
    wh_field_t *f = current_field(p);
    if (f->name_len == 0) /* ": value": llhttp lets an empty name through */
        return fail(p, 400, "empty header field name");
    if (!p->in_value)
        f->value_off = (uint32_t)p->strings.len; /* empty value */
    p->in_name = p->in_value = false;
    const char *v = p->strings.data + f->value_off;
    while (f->value_len > 0 && (v[f->value_len - 1] == ' ' || v[f->value_len - 1] == '\t'))
        f->value_len--;
    while (f->value_len > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        f->value_off++;
        f->value_len--;
    }
    /* Names with '_' would be indistinguishable from '-' once in environ (HTTP_X_FOO). */
    if (name_has_underscore(p->strings.data + f->name_off, f->name_len))
        p->fields[p->field_count - 1].name_len = 0; /* dropped at take time */
    return 0;
}

/* Methods are case-sensitive (RFC 9110 §9.1): "get" is a method of its own, not GET. */
static bool str_is(wh_str_t s, const char *literal)
{
    return s.len == strlen(literal) && memcmp(s.ptr, literal, s.len) == 0;
}

static wh_str_t field_name(const wh_http1_t *p, const wh_field_t *f)
{
    return (wh_str_t){p->strings.data + f->name_off, f->name_len};
}

static wh_str_t field_value(const wh_http1_t *p, const wh_field_t *f)
{
    return (wh_str_t){p->strings.data + f->value_off, f->value_len};
}

static bool is_unreserved_or_subdelim(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool wh_host_valid(wh_str_t host)
{
    const unsigned char *s = (const unsigned char *)host.ptr;
    size_t i = 0, n = host.len;
    if (n > 0 && s[0] == '[') { /* IP-literal */
        for (i = 1; i < n && s[i] != ']'; i++) {
            if (!is_unreserved_or_subdelim(s[i]) && s[i] != ':')
                return false;
        }
        if (i == n || i == 1)
            return false;
        i++;
    } else {
        for (; i < n && s[i] != ':'; i++) {
            if (s[i] == '%') {
                if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                    return false;
                i += 2;
            } else if (!is_unreserved_or_subdelim(s[i])) {
                return false;
            }
        }
    }
    if (i == n)
        return true;
    if (s[i] != ':')
        return false;
    for (i++; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

long wh_percent_decode(char *s, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            unsigned char hi = (unsigned char)s[i + 1], lo = (unsigned char)s[i + 2];
            if (!is_hex(hi) || !is_hex(lo))
                return -1;
            c = (unsigned char)(wh_hex_value(hi) << 4 | wh_hex_value(lo));
            i += 2;
        }
        s[out++] = (char)c;
    }
    return (long)out;
}

/* Transfer-Encoding: RFC 9112 §6.1/§6.3. Only "chunked", once and last, is accepted. */
static int check_transfer_encoding(wh_http1_t *p)
{
    bool seen_chunked = false, present = false;
    for (uint32_t i = 0; i < p->field_count; i++) {
        wh_field_t *f = &p->fields[i];
        if (!wh_name_equals(field_name(p, f), "Transfer-Encoding"))
            continue;
        present = true; /* even empty: "Transfer-Encoding:" with Content-Length is CL+TE */
        if (p->parser.http_minor == 0)
            return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
        wh_str_t v = field_value(p, f);
        size_t i0 = 0;
        while (i0 <= v.len) {
            size_t end = i0;
            while (end < v.len && v.ptr[end] != ',')
                end++;
            size_t a = i0, b = end;
            while (a < b && (v.ptr[a] == ' ' || v.ptr[a] == '\t'))
                a++;
            while (b > a && (v.ptr[b - 1] == ' ' || v.ptr[b - 1] == '\t'))
                b--;
            if (b > a) {
                if (seen_chunked)
                    return fail(p, 400, "chunked is not the last transfer coding");
                wh_str_t coding = {v.ptr + a, b - a};
                if (!wh_name_equals(coding, "chunked"))
                    return fail(p, 501, "unsupported transfer coding");
                seen_chunked = true;
            }
            i0 = end + 1;
        }
    }
    if (present && !seen_chunked)
        return fail(p, 400, "chunked is not the last transfer coding");
    /* llhttp frames the body itself: where it did not read the field as chunked (an upgrade
     * request; a coding it does not trim, such as one followed by tabs) the body is not
     * de-chunked, and the app must not see a Transfer-Encoding the body was not framed by. */
    if (present && (p->parser.flags & F_CHUNKED) == 0)
        return fail(p, 400,
                    "Transfer-Encoding not readable as chunked framing (send 'chunked' "
                    "last, with no trailing whitespace, and no body with an upgrade)");
    return 0;
}

/* The request-target's form (RFC 9112 §3.2) and its path and query. Sets path/query offsets
 * in the strings buffer (the decoded path is appended there). */
static int split_target(wh_http1_t *p, uint32_t *path_off, uint32_t *path_len, uint32_t *query_off,
                        uint32_t *query_len, wh_str_t *authority)
{
    const char *t = p->strings.data + p->target_off;
    size_t n = p->target_len, start = 0;
    authority->ptr = NULL;
    authority->len = 0;
    wh_str_t method = {p->strings.data + p->method_off, p->method_len};
    if (n == 1 && t[0] == '*') {
        if (!str_is(method, "OPTIONS"))
            return fail(p, 400, "asterisk-form is only for OPTIONS");
    } else if (n > 0 && t[0] == '/') {
        /* origin-form; empty segments ("//a") are valid and passed on as they are */
    } else {
        /* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
        size_t i = 0;
        while (i < n && t[i] != ':' && t[i] != '/' && t[i] != '?')
            i++;
        if (i == 0 || i + 2 >= n || t[i] != ':' || t[i + 1] != '/' || t[i + 2] != '/')
            return fail(p, 400, "malformed request target");
        /* §3.2.2: we are an origin server for http and https only, never a proxy for another
         * scheme, whose path would name something else. */
        wh_str_t scheme = {t, i};
        if (!wh_name_equals(scheme, "http") && !wh_name_equals(scheme, "https"))
            return fail(p, 400, "request target scheme is not http or https");
        size_t auth = i + 3, end = auth;
        while (end < n && t[end] != '/' && t[end] != '?' && t[end] != '#')
            end++;
        authority->ptr = t + auth;
        authority->len = end - auth;
        if (authority->len == 0 || memchr(authority->ptr, '@', authority->len))
            return fail(p, 400, "malformed authority in request target");
        start = end;
    }
    size_t q = start;
    while (q < n && t[q] != '?' && t[q] != '#')
        q++;
    if (q < n && t[q] == '?') {
        size_t qend = q + 1;
        while (qend < n && t[qend] != '#')
            qend++;
        *query_off = (uint32_t)(p->target_off + q + 1);
        *query_len = (uint32_t)(qend - q - 1);
    } else {
        *query_off = *query_len = 0;
    }
    /* The decoded path goes after everything else in the buffer. */
    size_t raw_len = q - start;
    size_t target_pos = (size_t)(t - p->strings.data) + start;
    size_t auth_pos = authority->ptr ? (size_t)(authority->ptr - p->strings.data) : 0;
    if (wh_buf_reserve(&p->strings, raw_len ? raw_len : 1) != 0)
        return fail(p, 503, "out of memory");
    *path_off = (uint32_t)p->strings.len;
    if (raw_len == 0) {
        p->strings.data[p->strings.len] = '/';
        *path_len = 1;
    } else {
        char *dst = p->strings.data + p->strings.len;
        memcpy(dst, p->strings.data + target_pos, raw_len);
        long decoded = wh_percent_decode(dst, raw_len);
        if (decoded < 0)
            return fail(p, 400, "malformed percent-encoding in the path");
        /* A raw NUL never gets here (server/http/prescan.c), but %00 would put one in PATH_INFO,
         * where C code cuts the path short and Python's os functions raise: refused, as nginx does.
         */
        if (memchr(dst, '\0', (size_t)decoded) != NULL)
            return fail(p, 400, "NUL byte (%00) in the path");
        *path_len = (uint32_t)decoded;
    }
    p->strings.len += *path_len;
    if (authority->ptr) /* the buffer may have moved */
        authority->ptr = p->strings.data + auth_pos;
    return 0;
}

/* Host: exactly one in HTTP/1.1 (at most one in 1.0), well-formed (RFC 9112 §3.2). */
static int check_host(wh_http1_t *p, wh_str_t authority)
{
    int hosts = 0;
    wh_field_t *host = NULL;
    for (uint32_t i = 0; i < p->field_count; i++) {
        if (wh_name_equals(field_name(p, &p->fields[i]), "Host")) {
            hosts++;
            host = &p->fields[i];
        }
    }
    if (hosts > 1)
        return fail(p, 400, "more than one Host header");
    if (hosts == 0 && p->parser.http_minor == 1)
        return fail(p, 400, "HTTP/1.1 request without a Host header");
    if (host && !wh_host_valid(field_value(p, host)))
        return fail(p, 400, "invalid Host header");
    if (authority.ptr) {
        if (!wh_host_valid(authority))
            return fail(p, 400, "invalid authority in request target");
        if (host) { /* §3.2.2: the target's authority replaces Host */
            host->value_off = (uint32_t)(authority.ptr - p->strings.data);
            host->value_len = (uint32_t)authority.len;
        }
    }
    return 0;
}

static int check_expect(wh_http1_t *p)
{
    for (uint32_t i = 0; i < p->field_count; i++) {
        if (!wh_name_equals(field_name(p, &p->fields[i]), "Expect"))
            continue;
        if (!wh_name_equals(field_value(p, &p->fields[i]), "100-continue"))
            return fail(p, 417, "unsupported expectation");
        p->expect_continue = p->parser.http_minor == 1;
    }
    return 0;
}

static int on_headers_complete(llhttp_t *parser)
{
    wh_http1_t *p = self(parser);
    p->head_done = true;
    if (parser->http_major != 1 || parser->http_minor > 1)
        return fail(p, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    wh_str_t method = {p->strings.data + p->method_off, p->method_len};
    if (str_is(method, "CONNECT"))
        return fail(p, 501, "CONNECT is not supported");
    wh_str_t authority;
    if (split_target(p, &p->path_off, &p->path_len, &p->query_off, &p->query_len, &authority))
        return HPE_USER;
    if (check_host(p, authority) || check_transfer_encoding(p) || check_expect(p))
        return HPE_USER;
    p->chunked = (parser->flags & F_CHUNKED) != 0;
    p->has_body = p->chunked || (parser->flags & F_CONTENT_LENGTH) != 0;
    if (!p->chunked && p->has_body && p->limits->max_body &&
        parser->content_length > p->limits->max_body)
        return fail(p, 413, "request body too large");
    if (!p->has_body || (!p->chunked && parser->content_length == 0))
        p->expect_continue = false;
    return 0;
}

static int spool_open(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* File systems without O_TMPFILE: a named file, unlinked at once. */
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/wsgihost-body-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Chunk extensions count with the body: they are bytes a client makes us read. */
static bool body_over_limit(const wh_http1_t *p, size_t more)
{
    uint64_t max = p->limits->max_body;
    return max && p->body_len + p->scan.ext_bytes + more > max;
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
    wh_http1_t *p = self(parser);
    if (body_over_limit(p, len))
        return fail(p, 413, "request body too large");
    p->body_len += len;
    if (p->body_fd < 0 && p->body.len + len <= p->limits->body_memory_max) {
        if (wh_buf_append(&p->body, at, len) != 0)
            return fail(p, 503, "out of memory");
        return 0;
    }
    /* Spooling blocks the loop thread on the disk for the length of each write; acceptable
     * for now since the data is already in memory and the page cache absorbs it. */
    if (p->body_fd < 0) {
        const char *dir = p->limits->spool_dir;
        if (dir == NULL)
            dir = getenv("TMPDIR");
        p->body_fd = spool_open(dir && *dir ? dir : DEFAULT_SPOOL_DIR);
        if (p->body_fd < 0 || wh_write_all(p->body_fd, p->body.data, p->body.len) != 0)
            return fail(p, 503, "cannot store the request body (temporary directory)");
        wh_buf_free(&p->body);
    }
    if (wh_write_all(p->body_fd, at, len) != 0)
        return fail(p, 503, "cannot store the request body (temporary directory)");
    return 0;
}

static int on_message_complete(llhttp_t *parser)
{
    wh_http1_t *p = self(parser);
    p->message_done = true;
    /* An upgrade request (Upgrade with Connection: upgrade) is answered as a plain one and the
     * connection then closes: what follows is another protocol, never parsed as HTTP. llhttp
     * reports it only on the next execute (HPE_PAUSED_UPGRADE), so it is read here. */
    p->upgrade = parser->upgrade != 0;
    p->keep_alive = !p->upgrade && llhttp_should_keep_alive(parser) != 0;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_version = on_version,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void wh_http1_init(wh_http1_t *p, const wh_http1_limits_t *limits)
{
    memset(p, 0, sizeof(*p));
    p->limits = limits;
    p->body_fd = -1;
    wh_prescan_reset(&p->scan);
    llhttp_init(&p->parser, HTTP_REQUEST, &settings);
    p->parser.data = p;
}

void wh_http1_reset(wh_http1_t *p)
{
    wh_buf_reset(&p->strings);
    wh_buf_free(&p->body);
    if (p->body_fd >= 0)
        close(p->body_fd);
    p->body_fd = -1;
    p->method_off = p->method_len = p->target_off = p->target_len = 0;
    p->field_count = 0;
    p->version_len = 0;
    p->path_off = p->path_len = p->query_off = p->query_len = 0;
    p->in_name = p->in_value = false;
    wh_prescan_reset(&p->scan);
    p->trailer_count = p->trailer_size = 0;
    p->in_trailer_name = false;
    p->head_done = p->message_done = p->started = false;
    p->body_len = 0;
    p->has_body = p->chunked = p->expect_continue = p->keep_alive = p->upgrade = false;
}

void wh_http1_free(wh_http1_t *p)
{
    wh_http1_reset(p);
    wh_buf_free(&p->strings);
    free(p->fields);
    p->fields = NULL;
    p->field_cap = 0;
}

/* "DIGIT.DIGIT" as RFC 9112 §2.3 writes a version (llhttp hands us what follows "HTTP/"). */
static bool well_formed_version(const wh_http1_t *p)
{
    const char *v = p->version_text;
    return p->version_len == 3 && v[0] >= '0' && v[0] <= '9' && v[1] == '.' && v[2] >= '0' &&
           v[2] <= '9';
}

static wh_http1_result_t error_from_llhttp(wh_http1_t *p, llhttp_errno_t err)
{
    if (p->error_status == 0) {
        p->error_status = 400;
        p->error_detail = llhttp_errno_name(err);
        if (err == HPE_INVALID_VERSION && well_formed_version(p)) {
            p->error_status = 505; /* RFC 9110 §15.6.6: a version we do not speak */
            p->error_detail = "only HTTP/1.0 and HTTP/1.1 are supported";
        } else if (err == HPE_INVALID_VERSION) {
            p->error_detail = "invalid HTTP version";
        }
    }
    return WH_HTTP1_ERROR;
}

/* Method bytes: kept here (llhttp gets a stand-in), within the request-line limit. */
static int take_method(wh_http1_t *p, const char *at, size_t len)
{
    p->started = true;
    if (p->method_len == 0)
        p->method_off = (uint32_t)p->strings.len;
    p->method_len += (uint32_t)len;
    return append(p, at, len) ? HPE_USER : check_request_line(p);
}

/* Gives llhttp one run of bytes; *used says how many it took (fewer when it paused at the end
 * of a request). Returns 0, or -1 with the error recorded. */
static int execute(wh_http1_t *p, const char *run, size_t len, size_t *used)
{
    llhttp_errno_t err = llhttp_execute(&p->parser, run, len);
    *used = len;
    if (err == HPE_PAUSED_UPGRADE) { /* bytes after an upgrade request: not a request */
        fail(p, 400, "data after an upgrade request");
        return -1;
    }
    if (err == HPE_PAUSED) {
        *used = (size_t)(llhttp_get_error_pos(&p->parser) - run);
        llhttp_resume(&p->parser);
        return 0;
    }
    if (err != HPE_OK) {
        error_from_llhttp(p, err);
        return -1;
    }
    return 0;
}

wh_http1_result_t wh_http1_feed(wh_http1_t *p, const char *data, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (p->error_status)
        return WH_HTTP1_ERROR;
    bool head_was_done = p->head_done;
    size_t i = 0;
    while (i < len && !p->message_done) {
        size_t n = 0, used = 0;
        wh_scan_action_t action = wh_prescan_next(&p->scan, data + i, len - i, &n);
        switch (action) {
        case WH_SCAN_ERROR:
            fail(p, p->scan.status, p->scan.detail);
            break;
        case WH_SCAN_SKIP:
            if (body_over_limit(p, 0))
                fail(p, 413, "request body too large (chunk extensions count)");
            used = n;
            break;
        case WH_SCAN_METHOD:
            take_method(p, data + i, n);
            used = n;
            break;
        case WH_SCAN_METHOD_END: {
            const char *stand_in = wh_prescan_stand_in(&p->scan);
            if (execute(p, stand_in, strlen(stand_in), &used) == 0)
                used = n;
            break;
        }
        case WH_SCAN_FEED:
            execute(p, data + i, n, &used);
            break;
        }
        if (p->error_status) {
            *consumed = i;
            return WH_HTTP1_ERROR;
        }
        i += used;
        if (wh_prescan_at_body(&p->scan)) {
            if (!p->head_done) { /* llhttp and the scanner disagree on where the head ends */
                fail(p, 400, "malformed request head");
                *consumed = i;
                return WH_HTTP1_ERROR;
            }
            wh_prescan_body(&p->scan, p->chunked);
        }
    }
    *consumed = i;
    if (p->message_done)
        return WH_HTTP1_REQUEST;
    if (p->head_done && !head_was_done)
        return WH_HTTP1_HEAD;
    return WH_HTTP1_MORE;
}

wh_http1_result_t wh_http1_eof(wh_http1_t *p)
{
    if (!p->started)
        return WH_HTTP1_MORE;
    fail(p, 400, "incomplete request");
    return WH_HTTP1_ERROR;
}

int wh_http1_take(wh_http1_t *p, const wh_peer_t *peer, wh_request_t *req, char **strings,
                  wh_header_t **headers, char **body)
{
    const wh_str_t *peer_strs[] = {&peer->remote_addr, &peer->remote_port, &peer->server_name,
                                   &peer->server_port, &peer->url_scheme};
    size_t peer_offs[5];
    for (int i = 0; i < 5; i++) {
        peer_offs[i] = p->strings.len;
        if (wh_buf_append(&p->strings, peer_strs[i]->ptr, peer_strs[i]->len) != 0)
            return -1;
    }
    wh_header_t *hs = malloc((p->field_count ? p->field_count : 1) * sizeof(*hs));
    if (hs == NULL)
        return -1;
    char *s = p->strings.data;
    size_t n = 0;
    for (uint32_t i = 0; i < p->field_count; i++) {
        const wh_field_t *f = &p->fields[i];
        if (f->name_len == 0)
            continue; /* dropped: its name had '_' */
        /* The body is de-chunked and CONTENT_LENGTH set: an app that still saw the coding
         * would try to decode it again, or ignore the length. */
        if (p->chunked && wh_name_equals(field_name(p, f), "Transfer-Encoding"))
            continue;
        hs[n].name = (wh_str_t){s + f->name_off, f->name_len};
        hs[n].value = (wh_str_t){s + f->value_off, f->value_len};
        n++;
    }
    memset(req, 0, sizeof(*req));
    req->method = (wh_str_t){s + p->method_off, p->method_len};
    req->target = (wh_str_t){s + p->target_off, p->target_len};
    req->path = (wh_str_t){s + p->path_off, p->path_len};
    req->query = (wh_str_t){s + p->query_off, p->query_len};
    req->version =
        p->parser.http_minor == 1 ? (wh_str_t){"HTTP/1.1", 8} : (wh_str_t){"HTTP/1.0", 8};
    req->headers = hs;
    req->header_count = n;
    req->has_body = p->has_body;
    req->chunked = p->chunked;
    req->body_len = p->body_len;
    req->body_fd = p->body_fd;
    req->body = p->body.data;
    wh_str_t *dst[] = {&req->remote_addr, &req->remote_port, &req->server_name, &req->server_port,
                       &req->url_scheme};
    for (int i = 0; i < 5; i++)
        *dst[i] = (wh_str_t){s + peer_offs[i], peer_strs[i]->len};
    *strings = p->strings.data;
    *headers = hs;
    *body = p->body.data;
    /* The request owns the storage now; the parser starts over with fresh buffers. */
    p->strings = (wh_buf_t)WH_BUF_INIT;
    p->body = (wh_buf_t)WH_BUF_INIT;
    p->body_fd = -1;
    wh_http1_reset(p);
    return 0;
}

void wh_request_server_from_host(wh_request_t *req)
{
    bool https = req->url_scheme.len == 5 && memcmp(req->url_scheme.ptr, "https", 5) == 0;
    req->server_port = https ? (wh_str_t){"443", 3} : (wh_str_t){"80", 2};
    const wh_header_t *host = wh_request_header(req, "Host");
    if (host == NULL || host->value.len == 0)
        return;
    /* Host is valid here (check_host): uri-host [ ":" port ], an IPv6 literal in brackets. */
    const char *p = host->value.ptr, *end = p + host->value.len;
    const char *name_end;
    if (*p == '[') {
        const char *close = memchr(p, ']', host->value.len);
        name_end = close ? close + 1 : end;
    } else {
        const char *colon = memchr(p, ':', host->value.len);
        name_end = colon ? colon : end;
    }
    req->server_name = (wh_str_t){p, (size_t)(name_end - p)};
    if (name_end + 1 < end && *name_end == ':')
        req->server_port = (wh_str_t){name_end + 1, (size_t)(end - name_end - 1)};
}
