/* Access log formatting (see server/ops/accesslog.h). */
#include "server/ops/accesslog.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/core/errmsg.h"
#include "server/http/response.h"

/* Longest {name} inside an atom. */
enum { ATOM_NAME_MAX = 128 };
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
    const char *resp_headers[WH_ACCESSLOG_RESPONSE_HEADERS_MAX + 1];
};

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
                return wh_errorf(err, err_size, "bad atom %%(%.*s)s in --access-logformat",
                                 (int)len, name);
            switch (close[1]) {
            case 'i':
                return add_op(log, OP_HEADER_IN, inner, inner_len);
            case 'o': {
                size_t n = 0;
                while (log->resp_headers[n])
                    n++;
                if (n == WH_ACCESSLOG_RESPONSE_HEADERS_MAX)
                    return wh_errorf(err, err_size, "too many {NAME}o atoms (at most %d)",
                                     WH_ACCESSLOG_RESPONSE_HEADERS_MAX);
                if (add_op(log, OP_HEADER_OUT, inner, inner_len) != 0)
                    return -1;
                /* Hop-by-hop headers never go out, so no request needs to look for them: the
                 * atom prints "-" (decided here once, not per response). */
                if (!wh_header_is_hop_by_hop((wh_str_t){inner, inner_len}))
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
                return wh_errorf(err, err_size, "out of memory");
            p += 2;
            lit = p;
            continue;
        }
        if (p[0] == '%' && p[1] == '(') {
            const char *name = p + 2;
            const char *close = strchr(name, ')');
            if (close == NULL || !isalpha((unsigned char)close[1]))
                return wh_errorf(err, err_size,
                                 "unterminated atom at '%.20s' in --access-logformat (atoms are "
                                 "written %%(NAME)s)",
                                 p);
            if (add_literal(log, lit, (size_t)(p - lit)) != 0)
                return wh_errorf(err, err_size, "out of memory");
            if (add_atom(log, name, (size_t)(close - name), err, err_size) != 0) {
                if (err[0] == '\0')
                    wh_errorf(err, err_size, "out of memory");
                return -1;
            }
            p = close + 2;
            lit = p;
            continue;
        }
        p++;
    }
    if (add_literal(log, lit, (size_t)(p - lit)) != 0)
        return wh_errorf(err, err_size, "out of memory");
    return 0;
}

wh_accesslog_t *wh_accesslog_new(const char *format, bool json, char *err, size_t err_size)
{
    if (err_size > 0)
        err[0] = '\0';
    wh_accesslog_t *log = calloc(1, sizeof(*log));
    if (log == NULL) {
        wh_errorf(err, err_size, "out of memory");
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

/* Room reserved for a line before formatting, so most appends are plain copies. */
enum { LINE_RESERVE = 512 };

static const char HEX[] = "0123456789abcdef";

/* Appends bytes; with the room already there (the usual case), a plain copy. */
static inline int put(wh_buf_t *out, const char *s, size_t len)
{
    if (len == 0) /* s may then be NULL: an empty value */
        return 0;
    if (out->data != NULL && len <= out->cap - out->len) {
        memcpy(out->data + out->len, s, len);
        out->len += len;
        return 0;
    }
    return wh_buf_append(out, s, len);
}

static inline bool text_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == 0x7f;
}

/* How many bytes of s a text line takes as they are. */
static size_t text_plain_prefix(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + sizeof(wh_word_t) <= len; i += sizeof(wh_word_t)) {
        wh_word_t x;
        memcpy(&x, s + i, sizeof(x));
        if (wh_word_has_below(x, 0x20) | wh_word_has(x, '"') | wh_word_has(x, 0x7f))
            break;
    }
    while (i < len && !text_needs_escape((unsigned char)s[i]))
        i++;
    return i;
}

/* A value in a text line: '"' as \" (gunicorn), control bytes as \xNN so no value can end
 * the line or forge another one. */
static int put_safe(wh_buf_t *out, const char *s, size_t len)
{
    for (;;) {
        size_t n = text_plain_prefix(s, len);
        if (put(out, s, n) != 0)
            return -1;
        if (n == len)
            return 0;
        unsigned char c = (unsigned char)s[n];
        const char esc[4] = {'\\', 'x', HEX[c >> 4], HEX[c & 0xf]};
        if (c == '"' ? put(out, "\\\"", 2) : put(out, esc, sizeof(esc)))
            return -1;
        s += n + 1;
        len -= n + 1;
    }
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

static int put_value_or_dash(wh_buf_t *out, const wh_str_t *v)
{
    return v ? put_safe(out, v->ptr, v->len) : put(out, "-", 1);
}

/* The request headers the combined line and the JSON object show, found in one pass over the
 * request's headers (the first of each, as header_value) when a line first needs one. */
typedef struct {
    bool found;
    const wh_str_t *referer, *user_agent, *authorization;
} known_headers_t;

static const known_headers_t *known_headers(const wh_request_t *req, known_headers_t *k)
{
    if (k->found)
        return k;
    k->found = true;
    for (size_t i = 0; i < req->header_count; i++) {
        const wh_header_t *h = &req->headers[i];
        const wh_str_t **slot;
        const char *name;
        switch (h->name.len) { /* the lengths of the names below */
        case 7:
            slot = &k->referer, name = "Referer";
            break;
        case 10:
            slot = &k->user_agent, name = "User-Agent";
            break;
        case 13:
            slot = &k->authorization, name = "Authorization";
            break;
        default:
            continue;
        }
        if (*slot == NULL && strncasecmp(h->name.ptr, name, h->name.len) == 0)
            *slot = &h->value;
    }
    return k;
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
static int put_user(wh_buf_t *out, const wh_str_t *auth)
{
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

static int put_op(wh_buf_t *out, const op_t *op, const wh_access_entry_t *e, known_headers_t *k)
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
        return put_user(out, known_headers(r, k)->authorization);
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
        return put_value_or_dash(out, known_headers(r, k)->referer);
    case OP_A:
        return put_value_or_dash(out, known_headers(r, k)->user_agent);
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
        return put_value_or_dash(out, header_value(r, op->text, op->len));
    case OP_HEADER_OUT:
        return put_value_or_dash(out, response_header(e, op->text, op->len));
    case OP_ENV:
        return put_env(out, r, op->text, op->len);
    case OP_REQUEST_ID:
        return e->request_id.len ? put_safe(out, e->request_id.ptr, e->request_id.len)
                                 : put(out, "-", 1);
    }
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Appends a string literal (its length known at compile time). */
#define PUT_LITERAL(out, lit) put((out), (lit), sizeof(lit) - 1)

static int json_string(wh_buf_t *out, const char *key, size_t key_len, const char *s, size_t len)
{
    return put(out, key, key_len) || put(out, "\"", 1) || wh_json_escape(out, s, len) ||
           put(out, "\"", 1);
}

/* A "key": literal and a value. */
#define JSON_STRING(out, key, s, len) json_string((out), (key), sizeof(key) - 1, (s), (len))

static int json_header(wh_buf_t *out, const char *key, size_t key_len, const wh_str_t *v)
{
    if (v == NULL)
        return put(out, key, key_len) || PUT_LITERAL(out, "null");
    return json_string(out, key, key_len, v->ptr, v->len);
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
    known_headers_t k = {0};
    known_headers(r, &k);
    char stamp[64];
    size_t stamp_len = cached_iso8601(stamp, &e->now);
    int rc = JSON_STRING(out, "{\"time\":", stamp, stamp_len) ||
             PUT_LITERAL(out, ",\"type\":\"access\"") ||
             JSON_STRING(out, ",\"remote_addr\":", r->remote_addr.ptr, r->remote_addr.len) ||
             JSON_STRING(out, ",\"method\":", r->method.ptr, r->method.len) ||
             JSON_STRING(out, ",\"uri\":", r->target.ptr, r->target.len) ||
             JSON_STRING(out, ",\"protocol\":", r->version.ptr, r->version.len) ||
             PUT_LITERAL(out, ",\"status\":") || put_u64(out, (uint64_t)e->status) ||
             PUT_LITERAL(out, ",\"bytes\":") || put_u64(out, e->body_bytes) ||
             PUT_LITERAL(out, ",\"duration_us\":") || put_u64(out, e->duration_us) ||
             json_header(out, ",\"referer\":", sizeof(",\"referer\":") - 1, k.referer) ||
             json_header(out, ",\"user_agent\":", sizeof(",\"user_agent\":") - 1, k.user_agent);
    if (rc == 0 && e->request_id.len)
        rc = JSON_STRING(out, ",\"request_id\":", e->request_id.ptr, e->request_id.len);
    if (rc == 0)
        rc = PUT_LITERAL(out, ",\"pid\":") || put_u64(out, (uint64_t)my_pid()) ||
             PUT_LITERAL(out, "}\n");
    return rc ? -1 : 0;
}

int wh_accesslog_format(const wh_accesslog_t *log, const wh_access_entry_t *e, wh_buf_t *out)
{
    if (wh_buf_reserve(out, LINE_RESERVE) != 0)
        return -1;
    if (log->json)
        return format_json(e, out);
    known_headers_t k = {0};
    for (size_t i = 0; i < log->count; i++) {
        if (put_op(out, &log->ops[i], e, &k) != 0)
            return -1;
    }
    return put(out, "\n", 1);
}
