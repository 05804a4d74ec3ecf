/* Fuzz target: the request path, from the bytes a client sends to the request the app sees.
 *
 * Input: byte 0 picks the limits (bits 0-1) and how the bytes are cut into reads (bits 2-3),
 * byte 1 seeds the cut points, the rest is what one client sends on one connection. The bytes
 * go through wh_http1_feed / wh_http1_take the way server/http/conn.c drives them: pipelined
 * requests one at a time, each taken before the rest is parsed, parsing stopped after a request
 * that does not keep the connection alive, then wh_http1_eof. The limits are small and bodies
 * are spooled to a file past a few bytes, so every limit and the spooling run.
 *
 * Checked on every request handed on: its strings are in bounds (every byte is read), the
 * method and header names are tokens, the decoded path holds no NUL, an absolute-form target is
 * http or https, no name contains '_', values carry no CR/LF/NUL and no surrounding whitespace,
 * one Host (exactly one in HTTP/1.1), no Transfer-Encoding left when the body was de-chunked,
 * Content-Length with Transfer-Encoding never, a Content-Length body equal to the bytes that
 * ended the request, the limits kept, spooled only past body_memory_max and then a file of
 * exactly body_len bytes. Checked of the parser: MORE and HEAD consume all they were given, an
 * error has one of the statuses the server may send, no descriptor is left open. And the
 * outcome must not depend on how the bytes were cut: any cut gives the same requests and the
 * same ending as a single read. */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/core/buf.h"
#include "server/http/http1.h"
#include "server/http/response.h"
#include "tests/fuzz/fuzz.h"

static const wh_http1_limits_t PROFILES[4] = {
    /* the defaults, with a body limit and a small memory threshold */
    {4094, 100, 8190, 1 << 20, 256, NULL},
    /* tiny: every limit is within reach of a short input */
    {48, 4, 40, 64, 8, NULL},
    /* no limits at all; every body is spooled */
    {0, 0, 0, 0, 0, NULL},
    /* small */
    {256, 16, 128, 1024, 32, NULL},
};
static wh_http1_limits_t limits[4];

static const wh_peer_t PEER = {
    {"127.0.0.1", 9}, {"54321", 5}, {"localhost", 9}, {"8000", 4}, {"http", 4},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Spooled bodies go to memory when /dev/shm is there (fast); else $TMPDIR or /tmp. */
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
    for (int i = 0; i < 4; i++) {
        limits[i] = PROFILES[i];
        limits[i].spool_dir = dir;
    }
    return 0;
}

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(wh_str_t s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!is_tchar((unsigned char)s.ptr[i]))
            return false;
    }
    return true;
}

static bool has_byte(wh_str_t s, const char *set, size_t set_len)
{
    for (size_t i = 0; i < s.len; i++) {
        if (memchr(set, s.ptr[i], set_len))
            return true;
    }
    return false;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A recording of what the connection saw: requests (every field the app gets) and the end. */
typedef struct {
    wh_buf_t buf;
} trace_t;

static void put(trace_t *t, const void *data, size_t len)
{
    FUZZ_CHECK(wh_buf_append(&t->buf, data, len) == 0, "out of memory");
}

static void put_str(trace_t *t, wh_str_t s)
{
    uint64_t n = s.len;
    put(t, &n, sizeof(n));
    put(t, s.ptr, s.len);
}

static void put_u64(trace_t *t, uint64_t v)
{
    put(t, &v, sizeof(v));
}

typedef struct {
    const uint8_t *in; /* the whole stream */
    size_t in_len;
    const wh_http1_limits_t *lim;
} ctx_t;

static bool str_equals(wh_str_t a, const char *lit)
{
    return a.len == strlen(lit) && memcmp(a.ptr, lit, a.len) == 0;
}

/* "http://" or "https://", any case, starts the target. */
static bool scheme_is_http(wh_str_t target)
{
    const char *colon = memchr(target.ptr, ':', target.len);
    if (colon == NULL)
        return false;
    wh_str_t scheme = {target.ptr, (size_t)(colon - target.ptr)};
    return wh_name_equals(scheme, "http") || wh_name_equals(scheme, "https");
}

/* Checks one request and records it. `end` is the stream offset just past it. */
static void check_request(const ctx_t *cx, trace_t *t, const wh_request_t *req, size_t end,
                          int minor, bool keep_alive, bool upgrade)
{
    const wh_http1_limits_t *lim = cx->lim;
    fuzz_touch(req->method.ptr, req->method.len);
    fuzz_touch(req->target.ptr, req->target.len);
    fuzz_touch(req->path.ptr, req->path.len);
    fuzz_touch(req->query.ptr, req->query.len);
    FUZZ_CHECK(is_token(req->method), "method %.*s", (int)req->method.len, req->method.ptr);
    FUZZ_CHECK(req->target.len > 0, "empty target");
    FUZZ_CHECK(!has_byte(req->target, " \r\n\0\t", 5), "target %.*s", (int)req->target.len,
               req->target.ptr);
    FUZZ_CHECK(req->path.len > 0, "empty path");
    FUZZ_CHECK(!memchr(req->path.ptr, '\0', req->path.len), "NUL in the decoded path");
    if (req->target.ptr[0] != '/' && req->target.ptr[0] != '*') /* absolute-form */
        FUZZ_CHECK(scheme_is_http(req->target), "absolute-form scheme %.*s", (int)req->target.len,
                   req->target.ptr);
    FUZZ_CHECK(!memchr(req->query.ptr ? req->query.ptr : "", '#', req->query.len), "# in query");
    FUZZ_CHECK(str_equals(req->version, minor ? "HTTP/1.1" : "HTTP/1.0"), "version");
    if (lim->max_request_line)
        FUZZ_CHECK(req->method.len + req->target.len + 10 <= lim->max_request_line,
                   "request line %zu+%zu over %u", req->method.len, req->target.len,
                   lim->max_request_line);
    if (lim->max_header_fields)
        FUZZ_CHECK(req->header_count <= lim->max_header_fields, "%zu fields", req->header_count);

    int hosts = 0, lengths = 0, codings = 0;
    uint64_t content_length = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        wh_str_t n = req->headers[i].name, v = req->headers[i].value;
        fuzz_touch(n.ptr, n.len);
        fuzz_touch(v.ptr, v.len);
        FUZZ_CHECK(is_token(n), "header name %.*s", (int)n.len, n.ptr);
        FUZZ_CHECK(!memchr(n.ptr, '_', n.len), "'_' in header name %.*s", (int)n.len, n.ptr);
        FUZZ_CHECK(!has_byte(v, "\r\n\0", 3), "CR/LF/NUL in a value of %.*s", (int)n.len, n.ptr);
        FUZZ_CHECK(v.len == 0 || (!is_ows(v.ptr[0]) && !is_ows(v.ptr[v.len - 1])),
                   "untrimmed value of %.*s", (int)n.len, n.ptr);
        if (wh_name_equals(n, "Host")) {
            hosts++;
            continue; /* its value may be the target's authority: not a field-size matter */
        }
        if (lim->max_header_field_size)
            FUZZ_CHECK(n.len + v.len + 4 <= lim->max_header_field_size, "field size");
        if (wh_name_equals(n, "Transfer-Encoding"))
            codings++;
        if (wh_name_equals(n, "Content-Length")) {
            lengths++;
            FUZZ_CHECK(v.len > 0, "empty Content-Length");
            content_length = 0;
            for (size_t k = 0; k < v.len; k++) {
                FUZZ_CHECK(v.ptr[k] >= '0' && v.ptr[k] <= '9', "Content-Length %.*s", (int)v.len,
                           v.ptr);
                content_length = content_length * 10 + (uint64_t)(v.ptr[k] - '0');
            }
        }
    }
    FUZZ_CHECK(hosts <= 1, "%d Host fields", hosts);
    FUZZ_CHECK(minor == 0 || hosts == 1, "HTTP/1.1 without exactly one Host");
    FUZZ_CHECK(codings == 0, "Transfer-Encoding passed on (chunked=%d)", req->chunked);
    if (req->chunked) {
        FUZZ_CHECK(req->has_body && minor == 1, "chunked");
        FUZZ_CHECK(lengths == 0, "Content-Length with Transfer-Encoding");
    } else if (req->has_body) {
        FUZZ_CHECK(lengths == 1, "%d Content-Length fields", lengths);
        FUZZ_CHECK(req->body_len == content_length, "body %llu, Content-Length %llu",
                   (unsigned long long)req->body_len, (unsigned long long)content_length);
    } else {
        FUZZ_CHECK(lengths == 0 && req->body_len == 0, "body without framing");
    }
    if (lim->max_body)
        FUZZ_CHECK(req->body_len <= lim->max_body, "body %llu over the limit",
                   (unsigned long long)req->body_len);

    /* The body: in memory up to body_memory_max, else a file of exactly body_len bytes. */
    unsigned char *body = NULL;
    if (req->body_fd >= 0) {
        FUZZ_CHECK(req->body_len > lim->body_memory_max, "spooled a body of %llu",
                   (unsigned long long)req->body_len);
        struct stat st;
        FUZZ_CHECK(fstat(req->body_fd, &st) == 0 && (uint64_t)st.st_size == req->body_len,
                   "spool file size");
        body = malloc(req->body_len);
        FUZZ_CHECK(body != NULL, "out of memory");
        FUZZ_CHECK(pread(req->body_fd, body, req->body_len, 0) == (ssize_t)req->body_len,
                   "spool file read");
    } else {
        FUZZ_CHECK(req->body_len <= lim->body_memory_max, "kept %llu bytes in memory",
                   (unsigned long long)req->body_len);
        FUZZ_CHECK(req->body_len == 0 || req->body != NULL, "no body buffer");
        fuzz_touch(req->body, req->body_len);
    }
    const unsigned char *bytes = body ? body : (const unsigned char *)req->body;
    /* A Content-Length body is the last body_len bytes of the request, as sent. */
    if (req->has_body && !req->chunked && req->body_len > 0)
        FUZZ_CHECK(end >= req->body_len &&
                       memcmp(bytes, cx->in + end - req->body_len, req->body_len) == 0,
                   "body differs from the bytes sent");
    if (req->chunked)
        FUZZ_CHECK(req->body_len < end, "decoded body longer than the request");

    put(t, "R", 1);
    put_str(t, req->method);
    put_str(t, req->target);
    put_str(t, req->path);
    put_str(t, req->query);
    put_str(t, req->version);
    put_u64(t, req->header_count);
    for (size_t i = 0; i < req->header_count; i++) {
        put_str(t, req->headers[i].name);
        put_str(t, req->headers[i].value);
    }
    put_u64(t, (uint64_t)req->has_body << 1 | (uint64_t)req->chunked);
    put_u64(t, (uint64_t)keep_alive << 1 | (uint64_t)upgrade);
    put_str(t, (wh_str_t){(const char *)bytes, req->body_len});
    put_u64(t, end);
    free(body);
}

static void check_error(const wh_http1_t *p)
{
    int s = p->error_status;
    FUZZ_CHECK(s == 400 || s == 413 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505,
               "error status %d (%s)", s, p->error_detail ? p->error_detail : "?");
    FUZZ_CHECK(p->error_detail != NULL && p->error_detail[0], "error without a reason");
}

/* xorshift32: the cut points. */
static uint32_t next_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Runs the connection; mode 0 = one read, 1 = a byte per read, 2/3 = random reads. */
static void run(const ctx_t *cx, int mode, uint32_t seed, trace_t *t)
{
    wh_http1_t p;
    wh_http1_init(&p, cx->lim);
    wh_buf_t pending = WH_BUF_INIT;
    size_t pos = 0, consumed_total = 0;
    bool done = false;
    uint32_t rnd = seed * 2654435761u + 1;
    while (!done && pos < cx->in_len) {
        size_t n = cx->in_len - pos;
        if (mode == 1)
            n = 1;
        else if (mode == 2 && n > 1)
            n = 1 + next_rand(&rnd) % (n < 16 ? n : 16);
        else if (mode == 3 && n > 1)
            n = 1 + next_rand(&rnd) % (n < 300 ? n : 300);
        FUZZ_CHECK(wh_buf_append(&pending, cx->in + pos, n) == 0, "out of memory");
        pos += n;
        while (!done && pending.len > 0) {
            size_t used = (size_t)-1;
            wh_http1_result_t r = wh_http1_feed(&p, pending.data, pending.len, &used);
            FUZZ_CHECK(used <= pending.len, "consumed %zu of %zu", used, pending.len);
            if (r == WH_HTTP1_MORE || r == WH_HTTP1_HEAD) {
                FUZZ_CHECK(used == pending.len, "result %d consumed %zu of %zu", (int)r, used,
                           pending.len);
                if (r == WH_HTTP1_HEAD) {
                    FUZZ_CHECK(p.head_done && !p.message_done, "HEAD");
                    FUZZ_CHECK(!p.expect_continue || (p.has_body && p.parser.http_minor == 1),
                               "100-continue without a body");
                }
                consumed_total += used;
                wh_buf_consume(&pending, used);
                break; /* wait for the next read */
            }
            if (r == WH_HTTP1_ERROR) {
                check_error(&p);
                put(t, "E", 1);
                done = true;
                break;
            }
            FUZZ_CHECK(r == WH_HTTP1_REQUEST, "result %d", (int)r);
            FUZZ_CHECK(used > 0 || consumed_total > 0, "request from no bytes");
            consumed_total += used;
            wh_buf_consume(&pending, used);
            int minor = p.parser.http_minor;
            bool keep_alive = p.keep_alive, upgrade = p.upgrade;
            bool keep = keep_alive && !upgrade;
            wh_request_t req;
            char *strings = NULL, *body = NULL;
            wh_header_t *headers = NULL;
            FUZZ_CHECK(wh_http1_take(&p, &PEER, &req, &strings, &headers, &body) == 0,
                       "take failed");
            FUZZ_CHECK(str_equals(req.remote_addr, "127.0.0.1") &&
                           str_equals(req.server_port, "8000") &&
                           str_equals(req.url_scheme, "http"),
                       "peer strings");
            check_request(cx, t, &req, consumed_total, minor, keep_alive, upgrade);
            if (req.body_fd >= 0)
                close(req.body_fd);
            free(strings);
            free(headers);
            free(body);
            FUZZ_CHECK(!p.started && !p.head_done && p.field_count == 0, "parser not reset");
            if (!keep) {
                put(t, "C", 1); /* the server closes after answering */
                done = true;
            }
        }
    }
    if (!done) {
        wh_http1_result_t r = wh_http1_eof(&p);
        if (r == WH_HTTP1_ERROR) {
            check_error(&p);
            put(t, "I", 1); /* incomplete at EOF */
        } else {
            FUZZ_CHECK(r == WH_HTTP1_MORE, "eof result %d", (int)r);
            put(t, "M", 1);
        }
    }
    wh_buf_free(&pending);
    wh_http1_free(&p);
}

static int lowest_free_fd(void)
{
    int fd = dup(2);
    if (fd >= 0)
        close(fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (limits[0].max_request_line == 0) /* not initialised (a replay without Initialize) */
        LLVMFuzzerInitialize(NULL, NULL);
    int profile = data[0] & 3, mode = (data[0] >> 2) & 3;
    ctx_t cx = {data + 2, size - 2, &limits[profile]};
    /* Descriptors the run may use: the lowest free ones (inherited ones may sit among them). */
    int fd_before = lowest_free_fd();
    bool open_before[8];
    for (int i = 0; i < 8; i++)
        open_before[i] = fd_before >= 0 && fcntl(fd_before + i, F_GETFD) >= 0;

    trace_t whole = {WH_BUF_INIT};
    run(&cx, 0, 0, &whole);
    if (mode != 0) {
        trace_t cut = {WH_BUF_INIT};
        run(&cx, mode, data[1], &cut);
        FUZZ_CHECK(cut.buf.len == whole.buf.len &&
                       memcmp(cut.buf.data, whole.buf.data, whole.buf.len) == 0,
                   "cutting the input into reads (mode %d, seed %d) changed the outcome: %zu "
                   "trace bytes against %zu; ends '%c' and '%c'",
                   mode, data[1], cut.buf.len, whole.buf.len,
                   cut.buf.len ? cut.buf.data[cut.buf.len - 1] : '-',
                   whole.buf.len ? whole.buf.data[whole.buf.len - 1] : '-');
        wh_buf_free(&cut.buf);
    }
    wh_buf_free(&whole.buf);

    /* Everything the parser opened (spool files) is closed again. */
    for (int i = 0; fd_before >= 0 && i < 8; i++)
        FUZZ_CHECK(open_before[i] || fcntl(fd_before + i, F_GETFD) < 0, "descriptor %d left open",
                   fd_before + i);
    return 0;
}
