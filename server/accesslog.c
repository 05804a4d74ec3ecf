/* Access log formatting (see server/accesslog.h). */
#include "server/accesslog.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/response.h"

/* Longest {name} inside an atom. */
enum { ATOM_NAME_MAX = 128 };
/* Response headers a format may log with {Name}o. */
enum { MAX_RESPONSE_HEADERS = 16 };
enum { US_PER_MS = 1000, US_PER_S = 1000000, NS_PER_MS = 1000000 };

typedef enum {
    OP_LITERAL,
    OP_H,
    OP_L,
    OP_U,
    OP_T,
    OP_R,
    OP_S,
    OP_M,
    OP_UPATH,
    OP_Q,
    OP_HPROTO,
    OP_B,
    OP_BIGB,
    OP_F,
    OP_A,
    OP_SECONDS,
    OP_DMICRO,
    OP_MMILLI,
    OP_LDECIMAL,
    OP_P,
    OP_HEADER_IN,
    OP_HEADER_OUT,
    OP_ENV,
    OP_REQUEST_ID,
    OP_DASH,
} op_kind_t;

typedef struct {
    op_kind_t kind;
    char *text; /* literal bytes, or the {name} */
    size_t len;
} op_t;

struct wh_accesslog {
    bool json;
    op_t *ops;
    size_t count;
    const char *resp_headers[MAX_RESPONSE_HEADERS + 1];
};

static int errorf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int errorf(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

static int add_op(wh_accesslog_t *log, op_kind_t kind, const char *text, size_t len)
{
    op_t *ops = realloc(log->ops, (log->count + 1) * sizeof(*ops));
    if (ops == NULL)
        return -1;
    log->ops = ops;
    op_t *op = &ops[log->count];
    op->kind = kind;
    op->text = NULL;
    op->len = len;
    if (text) {
        op->text = malloc(len + 1);
        if (op->text == NULL)
            return -1;
        memcpy(op->text, text, len);
        op->text[len] = '\0';
    }
    log->count++;
    return 0;
}

static int add_literal(wh_accesslog_t *log, const char *text, size_t len)
{
    if (len == 0)
        return 0;
    if (log->count > 0 && log->ops[log->count - 1].kind == OP_LITERAL) {
        op_t *op = &log->ops[log->count - 1];
        char *t = realloc(op->text, op->len + len + 1);
        if (t == NULL)
            return -1;
        memcpy(t + op->len, text, len);
        op->len += len;
        t[op->len] = '\0';
        op->text = t;
        return 0;
    }
    return add_op(log, OP_LITERAL, text, len);
}

static op_kind_t single_atom(char c)
{
    switch (c) {
    case 'h':
        return OP_H;
    case 'l':
        return OP_L;
    case 'u':
        return OP_U;
    case 't':
        return OP_T;
    case 'r':
        return OP_R;
    case 's':
        return OP_S;
    case 'm':
        return OP_M;
    case 'U':
        return OP_UPATH;
    case 'q':
        return OP_Q;
    case 'H':
        return OP_HPROTO;
    case 'b':
        return OP_B;
    case 'B':
        return OP_BIGB;
    case 'f':
        return OP_F;
    case 'a':
        return OP_A;
    case 'T':
        return OP_SECONDS;
    case 'D':
        return OP_DMICRO;
    case 'M':
        return OP_MMILLI;
    case 'L':
        return OP_LDECIMAL;
    case 'p':
        return OP_P;
    default:
        return OP_DASH;
    }
}

/* One %(name)c atom, name without the parentheses. */
static int add_atom(wh_accesslog_t *log, const char *name, size_t len, char *err, size_t err_size)
{
    if (len >= 3 && name[0] == '{') {
        const char *close = memchr(name, '}', len);
        if (close && close == name + len - 2) {
            const char *inner = name + 1;
            size_t inner_len = (size_t)(close - inner);
            if (inner_len == 0 || inner_len > ATOM_NAME_MAX)
                return errorf(err, err_size, "bad atom %%(%.*s)s in --access-logformat", (int)len,
                              name);
            switch (close[1]) {
            case 'i':
                return add_op(log, OP_HEADER_IN, inner, inner_len);
            case 'o': {
                size_t n = 0;
                while (log->resp_headers[n])
                    n++;
                if (n == MAX_RESPONSE_HEADERS)
                    return errorf(err, err_size, "too many {NAME}o atoms (at most %d)",
                                  MAX_RESPONSE_HEADERS);
                if (add_op(log, OP_HEADER_OUT, inner, inner_len) != 0)
                    return -1;
                log->resp_headers[n] = log->ops[log->count - 1].text;
                return 0;
            }
            case 'e':
                return add_op(log, OP_ENV, inner, inner_len);
            case 'x':
                if (inner_len == 10 && strncasecmp(inner, "request_id", 10) == 0)
                    return add_op(log, OP_REQUEST_ID, NULL, 0);
                return add_op(log, OP_DASH, NULL, 0);
            default:
                return add_op(log, OP_DASH, NULL, 0);
            }
        }
    }
    if (len == 1)
        return add_op(log, single_atom(name[0]), NULL, 0);
    return add_op(log, OP_DASH, NULL, 0); /* gunicorn: unknown atoms are "-" */
}

static int compile(wh_accesslog_t *log, const char *f, char *err, size_t err_size)
{
    const char *lit = f;
    const char *p = f;
    while (*p) {
        if (p[0] == '%' && p[1] == '%') {
            if (add_literal(log, lit, (size_t)(p - lit)) != 0 || add_literal(log, "%", 1) != 0)
                return errorf(err, err_size, "out of memory");
            p += 2;
            lit = p;
            continue;
        }
        if (p[0] == '%' && p[1] == '(') {
            const char *name = p + 2;
            const char *close = strchr(name, ')');
            if (close == NULL || !isalpha((unsigned char)close[1]))
                return errorf(err, err_size,
                              "unterminated atom at '%.20s' in --access-logformat (atoms are "
                              "written %%(NAME)s)",
                              p);
            if (add_literal(log, lit, (size_t)(p - lit)) != 0)
                return errorf(err, err_size, "out of memory");
            if (add_atom(log, name, (size_t)(close - name), err, err_size) != 0) {
                if (err[0] == '\0')
                    errorf(err, err_size, "out of memory");
                return -1;
            }
            p = close + 2;
            lit = p;
            continue;
        }
        p++;
    }
    if (add_literal(log, lit, (size_t)(p - lit)) != 0)
        return errorf(err, err_size, "out of memory");
    return 0;
}

wh_accesslog_t *wh_accesslog_new(const char *format, bool json, char *err, size_t err_size)
{
    if (err_size > 0)
        err[0] = '\0';
    wh_accesslog_t *log = calloc(1, sizeof(*log));
    if (log == NULL) {
        errorf(err, err_size, "out of memory");
        return NULL;
    }
    log->json = json;
    if (!json && compile(log, format ? format : WH_ACCESSLOG_DEFAULT_FORMAT, err, err_size) != 0) {
        wh_accesslog_free(log);
        return NULL;
    }
    return log;
}

void wh_accesslog_free(wh_accesslog_t *log)
{
    if (log == NULL)
        return;
    for (size_t i = 0; i < log->count; i++)
        free(log->ops[i].text);
    free(log->ops);
    free(log);
}

const char *const *wh_accesslog_response_headers(const wh_accesslog_t *log)
{
    return log->resp_headers;
}

/* ---- values ------------------------------------------------------------------------------ */

/* getpid() is a real system call (glibc stopped caching it), costly in sandboxes: once per
 * process. Lines are only formatted in workers, which fill this after their fork. */
static long my_pid(void)
{
    static pid_t cached_for = 0;
    static long pid;
    if (cached_for == 0) {
        pid = (long)getpid();
        cached_for = (pid_t)pid;
    }
    return pid;
}

static int put(wh_buf_t *out, const char *s, size_t len)
{
    return wh_buf_append(out, s, len);
}

/* A value in a text line: '"' as \" (gunicorn), control bytes as \xNN so no value can end
 * the line or forge another one. */
static int put_safe(wh_buf_t *out, const char *s, size_t len)
{
    if (wh_buf_reserve(out, len) != 0)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '"' && c >= 0x20 && c != 0x7f)
            continue;
        if (put(out, s + start, i - start) != 0)
            return -1;
        char esc[5];
        if (c == '"')
            memcpy(esc, "\\\"", 3);
        else
            snprintf(esc, sizeof(esc), "\\x%02x", c);
        if (wh_buf_append_str(out, esc) != 0)
            return -1;
        start = i + 1;
    }
    return put(out, s + start, len - start);
}

static int put_u64(wh_buf_t *out, uint64_t v)
{
    char digits[24];
    char *p = digits + sizeof(digits);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return put(out, p, (size_t)(digits + sizeof(digits) - p));
}

static const wh_str_t *header_value(const wh_request_t *req, const char *name, size_t len)
{
    for (size_t i = 0; i < req->header_count; i++) {
        const wh_header_t *h = &req->headers[i];
        if (h->name.len == len && strncasecmp(h->name.ptr, name, len) == 0)
            return &h->value;
    }
    return NULL;
}

static int put_header_or_dash(wh_buf_t *out, const wh_request_t *req, const char *name, size_t len)
{
    const wh_str_t *v = header_value(req, name, len);
    return v ? put_safe(out, v->ptr, v->len) : put(out, "-", 1);
}

/* A header name as its environ key: "X-Foo" matches "HTTP_X_FOO" (case-insensitive). */
static bool env_key_matches_header(const char *key, size_t key_len, wh_str_t name)
{
    if (key_len != name.len + 5 || strncasecmp(key, "HTTP_", 5) != 0)
        return false;
    for (size_t i = 0; i < name.len; i++) {
        char a = (char)toupper((unsigned char)key[5 + i]);
        char b = name.ptr[i] == '-' ? '_' : (char)toupper((unsigned char)name.ptr[i]);
        if (a != b)
            return false;
    }
    return true;
}

static bool key_is(const char *key, size_t len, const char *literal)
{
    return strlen(literal) == len && strncasecmp(key, literal, len) == 0;
}

/* {NAME}e: the environ values the loop knows. */
static int put_env(wh_buf_t *out, const wh_request_t *req, const char *key, size_t len)
{
    const wh_str_t *v = NULL;
    if (key_is(key, len, "REQUEST_METHOD"))
        v = &req->method;
    else if (key_is(key, len, "RAW_URI") || key_is(key, len, "REQUEST_URI"))
        v = &req->target;
    else if (key_is(key, len, "PATH_INFO"))
        v = &req->path;
    else if (key_is(key, len, "QUERY_STRING"))
        v = &req->query;
    else if (key_is(key, len, "SERVER_PROTOCOL"))
        v = &req->version;
    else if (key_is(key, len, "REMOTE_ADDR"))
        v = &req->remote_addr;
    else if (key_is(key, len, "REMOTE_PORT"))
        v = &req->remote_port;
    else if (key_is(key, len, "SERVER_NAME"))
        v = &req->server_name;
    else if (key_is(key, len, "SERVER_PORT"))
        v = &req->server_port;
    else if (key_is(key, len, "wsgi.url_scheme"))
        v = &req->url_scheme;
    else if (key_is(key, len, "CONTENT_TYPE"))
        v = header_value(req, "Content-Type", 12);
    else {
        for (size_t i = 0; i < req->header_count && v == NULL; i++) {
            if (env_key_matches_header(key, len, req->headers[i].name))
                v = &req->headers[i].value;
        }
    }
    return v && v->len ? put_safe(out, v->ptr, v->len) : put(out, "-", 1);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* gunicorn's %(u)s: the user name of "Authorization: Basic BASE64(user:password)". */
static int put_user(wh_buf_t *out, const wh_request_t *req)
{
    const wh_str_t *auth = header_value(req, "Authorization", 13);
    if (auth == NULL || auth->len < 6 || strncasecmp(auth->ptr, "basic ", 6) != 0)
        return put(out, "-", 1);
    char user[256];
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 6; i < auth->len; i++) {
        char c = auth->ptr[i];
        if (c == ' ' || c == '\t' || c == '=')
            continue;
        int v = b64_value(c);
        if (v < 0)
            return put(out, "-", 1);
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char byte = (char)((acc >> bits) & 0xff);
            if (byte == ':')
                break;
            if (n == sizeof(user))
                return put(out, "-", 1);
            user[n++] = byte;
        }
    }
    return n ? put_safe(out, user, n) : put(out, "-", 1);
}

/* "[10/Oct/2000:13:55:36 -0700]", formatted once per second. */
static int put_clf_time(wh_buf_t *out, time_t now)
{
    static time_t cached_at = -1;
    static char stamp[40];
    static size_t stamp_len;
    if (now != cached_at) {
        struct tm tm;
        localtime_r(&now, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "[%d/%b/%Y:%H:%M:%S %z]", &tm);
        cached_at = now;
    }
    return put(out, stamp, stamp_len);
}

static int put_decimal_seconds(wh_buf_t *out, uint64_t us)
{
    char text[40];
    int n = snprintf(text, sizeof(text), "%" PRIu64 ".%06" PRIu64, us / US_PER_S, us % US_PER_S);
    return put(out, text, (size_t)n);
}

static const wh_str_t *response_header(const wh_access_entry_t *e, const char *name, size_t len)
{
    for (size_t i = 0; e->resp_headers && i < e->resp_header_count; i++) {
        const wh_header_t *h = &e->resp_headers[i];
        if (h->name.len == len && strncasecmp(h->name.ptr, name, len) == 0)
            return &h->value;
    }
    return NULL;
}

static int put_op(wh_buf_t *out, const op_t *op, const wh_access_entry_t *e)
{
    const wh_request_t *r = e->req;
    switch (op->kind) {
    case OP_LITERAL:
        return put(out, op->text, op->len);
    case OP_H:
        return r->remote_addr.len ? put(out, r->remote_addr.ptr, r->remote_addr.len)
                                  : put(out, "-", 1);
    case OP_L:
    case OP_DASH:
        return put(out, "-", 1);
    case OP_U:
        return put_user(out, r);
    case OP_T:
        return put_clf_time(out, e->now.tv_sec);
    case OP_R:
        return put_safe(out, r->method.ptr, r->method.len) || put(out, " ", 1) ||
               put_safe(out, r->target.ptr, r->target.len) || put(out, " ", 1) ||
               put(out, r->version.ptr, r->version.len);
    case OP_S:
        return put_u64(out, (uint64_t)e->status);
    case OP_M:
        return put_safe(out, r->method.ptr, r->method.len);
    case OP_UPATH:
        return put_safe(out, r->path.ptr, r->path.len);
    case OP_Q:
        return put_safe(out, r->query.ptr, r->query.len);
    case OP_HPROTO:
        return put(out, r->version.ptr, r->version.len);
    case OP_B:
    case OP_BIGB:
        return put_u64(out, e->body_bytes);
    case OP_F:
        return put_header_or_dash(out, r, "Referer", 7);
    case OP_A:
        return put_header_or_dash(out, r, "User-Agent", 10);
    case OP_SECONDS:
        return put_u64(out, e->duration_us / US_PER_S);
    case OP_DMICRO:
        return put_u64(out, e->duration_us);
    case OP_MMILLI:
        return put_u64(out, e->duration_us / US_PER_MS);
    case OP_LDECIMAL:
        return put_decimal_seconds(out, e->duration_us);
    case OP_P: {
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "<%ld>", my_pid());
        return put(out, pid, (size_t)n);
    }
    case OP_HEADER_IN:
        return put_header_or_dash(out, r, op->text, op->len);
    case OP_HEADER_OUT: {
        const wh_str_t *v = response_header(e, op->text, op->len);
        return v ? put_safe(out, v->ptr, v->len) : put(out, "-", 1);
    }
    case OP_ENV:
        return put_env(out, r, op->text, op->len);
    case OP_REQUEST_ID:
        return e->request_id.len ? put_safe(out, e->request_id.ptr, e->request_id.len)
                                 : put(out, "-", 1);
    }
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

int wh_json_escape(wh_buf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (wh_buf_reserve(out, len) != 0)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        if (put(out, s + start, i - start) != 0)
            return -1;
        char esc[7];
        size_t n = 2;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            n = 6;
        }
        if (put(out, esc, n) != 0)
            return -1;
        start = i + 1;
    }
    return put(out, s + start, len - start);
}

size_t wh_iso8601(char *out, size_t size, const struct timespec *now)
{
    struct tm tm;
    localtime_r(&now->tv_sec, &tm);
    char zone[8];
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0 || strftime(zone, sizeof(zone), "%z", &tm) != 5)
        return n;
    int m =
        snprintf(out + n, size - n, ".%03ld%.3s:%.2s", now->tv_nsec / NS_PER_MS, zone, zone + 3);
    return m > 0 && (size_t)m < size - n ? n + (size_t)m : n;
}

static int json_string(wh_buf_t *out, const char *key, const char *s, size_t len)
{
    return wh_buf_append_str(out, key) || put(out, "\"", 1) || wh_json_escape(out, s, len) ||
           put(out, "\"", 1);
}

static int json_header(wh_buf_t *out, const char *key, const wh_request_t *r, const char *name,
                       size_t name_len)
{
    const wh_str_t *v = header_value(r, name, name_len);
    if (v == NULL)
        return wh_buf_append_str(out, key) || put(out, "null", 4);
    return json_string(out, key, v->ptr, v->len);
}

/* The ISO 8601 time of `now`: the date and zone formatted once per second (loop thread). */
static size_t cached_iso8601(char out[64], const struct timespec *now)
{
    static time_t cached_at = -1;
    static char stamp[64];
    static size_t stamp_len;
    if (now->tv_sec != cached_at) {
        struct timespec whole = {now->tv_sec, 0};
        stamp_len = wh_iso8601(stamp, sizeof(stamp), &whole); /* "...T13:55:36.000+01:00" */
        cached_at = now->tv_sec;
    }
    memcpy(out, stamp, stamp_len);
    size_t dot = 19; /* "YYYY-MM-DDTHH:MM:SS" */
    if (stamp_len > dot + 4 && out[dot] == '.') {
        long ms = now->tv_nsec / NS_PER_MS;
        out[dot + 1] = (char)('0' + ms / 100);
        out[dot + 2] = (char)('0' + ms / 10 % 10);
        out[dot + 3] = (char)('0' + ms % 10);
    }
    return stamp_len;
}

static int format_json(const wh_access_entry_t *e, wh_buf_t *out)
{
    const wh_request_t *r = e->req;
    char stamp[64];
    size_t stamp_len = cached_iso8601(stamp, &e->now);
    int rc = json_string(out, "{\"time\":", stamp, stamp_len) ||
             wh_buf_append_str(out, ",\"type\":\"access\"") ||
             json_string(out, ",\"remote_addr\":", r->remote_addr.ptr, r->remote_addr.len) ||
             json_string(out, ",\"method\":", r->method.ptr, r->method.len) ||
             json_string(out, ",\"uri\":", r->target.ptr, r->target.len) ||
             json_string(out, ",\"protocol\":", r->version.ptr, r->version.len) ||
             wh_buf_append_str(out, ",\"status\":") || put_u64(out, (uint64_t)e->status) ||
             wh_buf_append_str(out, ",\"bytes\":") || put_u64(out, e->body_bytes) ||
             wh_buf_append_str(out, ",\"duration_us\":") || put_u64(out, e->duration_us) ||
             json_header(out, ",\"referer\":", r, "Referer", 7) ||
             json_header(out, ",\"user_agent\":", r, "User-Agent", 10);
    if (rc == 0 && e->request_id.len)
        rc = json_string(out, ",\"request_id\":", e->request_id.ptr, e->request_id.len);
    if (rc == 0)
        rc = wh_buf_append_str(out, ",\"pid\":") || put_u64(out, (uint64_t)my_pid()) ||
             put(out, "}\n", 2);
    return rc ? -1 : 0;
}

int wh_accesslog_format(const wh_accesslog_t *log, const wh_access_entry_t *e, wh_buf_t *out)
{
    if (log->json)
        return format_json(e, out);
    for (size_t i = 0; i < log->count; i++) {
        if (put_op(out, &log->ops[i], e) != 0)
            return -1;
    }
    return put(out, "\n", 1);
}
