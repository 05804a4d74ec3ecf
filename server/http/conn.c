/* Client connections (see server/http/conn.h). Output of every kind (interim 100 Continue, the
 * server's own errors, the app's response) goes through one queue of segments, written with
 * writev and sendfile as the socket takes it. */
#include "server/http/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "server/core/log.h"
#include "server/http/observer.h"
#include "server/http/response.h"

/* Bytes a connection buffers ahead while its current request is being answered (pipelining);
 * past this it stops reading until the response is done. */
enum { PENDING_MAX = 64 * 1024 };
/* writev batch. */
enum { IOV_BATCH = 64 };
/* Largest sendfile call, so one big download cannot monopolise the loop. */
enum { SENDFILE_CHUNK = 1024 * 1024 };
/* Lingering close: how long and how much we read and drop after answering an error. */
enum { LINGER_TIMEOUT_MS = 2000, LINGER_MAX_BYTES = 1024 * 1024 };
/* A stopping worker keeps reading an idle keep-alive connection this long (at most its
 * keep-alive timeout): a client that sends on it gets an answer announcing the close instead of
 * a closed socket racing its request. */
enum { STOP_DRAIN_MS = 2000 };
enum { MS_PER_SECOND = 1000, NS_PER_MS = 1000000 };

static const char CONTINUE_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void conn_process(wh_conn_t *c);
static void conn_flush(wh_conn_t *c);
static void conn_close(wh_conn_t *c);

/* ---- poll and timer ---------------------------------------------------------------------- */

static void on_poll(uv_poll_t *handle, int status, int events);

static void update_poll(wh_conn_t *c)
{
    if (c->closed)
        return;
    int events = 0;
    bool read_room =
        c->state == WH_CONN_LINGER || c->state == WH_CONN_READING || c->pending.len < PENDING_MAX;
    if (!c->peer_eof && read_room && c->state != WH_CONN_ERROR)
        events |= UV_READABLE;
    if (c->write_blocked)
        events |= UV_WRITABLE;
    if (events == c->poll_events)
        return;
    c->poll_events = events;
    int rc = events ? uv_poll_start(&c->poll, events, on_poll) : uv_poll_stop(&c->poll);
    if (rc != 0) {
        wh_log(WH_LOG_ERROR, "poll on a connection failed: %s", uv_strerror(rc));
        conn_close(c);
    }
}

static void on_timer(uv_timer_t *timer);

static void arm_timer(wh_conn_t *c, wh_timer_kind_t kind, double seconds)
{
    /* The head timeout counts from the first byte and is never extended, or a client
     * trickling one byte at a time (slowloris) would hold the connection forever. */
    if (kind == c->timer_kind && kind == WH_TIMER_HEAD)
        return;
    c->timer_kind = kind;
    if (kind == WH_TIMER_NONE || seconds <= 0) {
        uv_timer_stop(&c->timer);
        return;
    }
    uv_timer_start(&c->timer, on_timer, (uint64_t)(seconds * MS_PER_SECOND), 0);
}

/* The head or body timer, unless --receive-timeout (counted from the request's first byte, or
 * from accept) ends sooner: each read may renew the body timer, never the ceiling. */
static void arm_receive_timer(wh_conn_t *c, wh_timer_kind_t kind, double seconds)
{
    double ceiling = c->worker->cfg->receive_timeout;
    uint64_t now = uv_now(&c->worker->loop);
    if (c->receive_start_ms == 0)
        c->receive_start_ms = now ? now : 1;
    if (ceiling > 0) {
        double left = ceiling - (double)(now - c->receive_start_ms) / MS_PER_SECOND;
        if (seconds <= 0 || left < seconds) {
            kind = WH_TIMER_RECEIVE;
            seconds = left > 0 ? left : 1.0 / MS_PER_SECOND;
        }
    }
    arm_timer(c, kind, seconds);
}

/* Picks the timeout that applies now. Called after every step that made progress. */
static void update_timer(wh_conn_t *c)
{
    const wh_config_t *cfg = c->worker->cfg;
    if (c->write_blocked)
        arm_timer(c, WH_TIMER_WRITE, cfg->write_timeout);
    else if (c->state == WH_CONN_LINGER)
        arm_timer(c, WH_TIMER_LINGER, (double)LINGER_TIMEOUT_MS / MS_PER_SECOND);
    else if (c->state != WH_CONN_READING)
        arm_timer(c, WH_TIMER_NONE, 0); /* the app's time is the process model's business */
    else if (c->http.head_done)
        arm_receive_timer(c, WH_TIMER_BODY, cfg->body_timeout);
    else if (c->http.started || c->pending.len > 0 || c->requests == 0)
        arm_receive_timer(c, WH_TIMER_HEAD, cfg->header_timeout);
    else if (c->worker->stopping &&
             (cfg->keep_alive <= 0 || cfg->keep_alive > (double)STOP_DRAIN_MS / MS_PER_SECOND))
        arm_timer(c, WH_TIMER_IDLE, (double)STOP_DRAIN_MS / MS_PER_SECOND);
    else
        arm_timer(c, WH_TIMER_IDLE, cfg->keep_alive);
    if (c->state != WH_CONN_READING || c->timer_kind == WH_TIMER_IDLE)
        c->receive_start_ms = 0;
}

static void send_error(wh_conn_t *c, int status, const char *detail);
static void on_readable(wh_conn_t *c);

/* An idle connection's time is up. A request already received is read and answered (it was on
 * the wire before the close); otherwise the connection closes with nothing unread. */
static void idle_timeout(wh_conn_t *c)
{
    int unread = 0;
    if (!c->peer_eof && ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0) {
        on_readable(c);
        return;
    }
    conn_close(c);
}

static void on_timer(uv_timer_t *timer)
{
    wh_conn_t *c = timer->data;
    wh_timer_kind_t kind = c->timer_kind;
    c->timer_kind = WH_TIMER_NONE;
    switch (kind) {
    case WH_TIMER_HEAD:
    case WH_TIMER_BODY:
        if (c->http.started || c->pending.len > 0) {
            wh_log(WH_LOG_DEBUG, "%s: request %s timed out", c->remote_addr,
                   kind == WH_TIMER_HEAD ? "head" : "body");
            send_error(c, 408,
                       kind == WH_TIMER_HEAD ? "request head not received in time"
                                             : "request body not received in time");
            return;
        }
        conn_close(c);
        return;
    case WH_TIMER_RECEIVE:
        if (!c->http.started && c->pending.len == 0) {
            conn_close(c);
            return;
        }
        wh_log(WH_LOG_DEBUG, "%s: request not received within --receive-timeout", c->remote_addr);
        send_error(c, 408, "request not received in time (--receive-timeout)");
        return;
    case WH_TIMER_WRITE:
        wh_log(WH_LOG_INFO, "%s: client stopped reading the response: closing", c->remote_addr);
        conn_close(c);
        return;
    case WH_TIMER_IDLE:
        idle_timeout(c);
        return;
    default:
        conn_close(c);
        return;
    }
}

/* ---- output ------------------------------------------------------------------------------ */

static void bytes_written(wh_conn_t *c, uint64_t n)
{
    const wh_observer_t *obs = c->worker->observer;
    if (obs)
        obs->bytes_written(obs->self, c, n);
}

static void append_output(wh_conn_t *c, wh_outseg_t *list)
{
    if (list == NULL)
        return;
    if (c->out_tail)
        c->out_tail->next = list;
    else
        c->out = list;
    wh_outseg_t *tail = list;
    while (tail->next)
        tail = tail->next;
    c->out_tail = tail;
}

static int queue_copy(wh_conn_t *c, const char *data, size_t len)
{
    wh_outseg_t *seg = malloc(sizeof(*seg) + len);
    if (seg == NULL)
        return -1;
    seg->next = NULL;
    seg->fd = -1;
    seg->offset = 0;
    seg->len = len;
    seg->cap = len;
    memcpy(seg->data, data, len);
    append_output(c, seg);
    return 0;
}

static void pop_segment(wh_conn_t *c)
{
    wh_outseg_t *seg = c->out;
    c->out = seg->next;
    if (c->out == NULL)
        c->out_tail = NULL;
    seg->next = NULL;
    wh_outseg_free_list(seg);
}

/* Writes memory segments from the head of the queue with one sendmsg. Returns bytes written
 * or -1 with errno. */
static ssize_t write_memory(wh_conn_t *c)
{
    struct iovec iov[IOV_BATCH];
    int n = 0;
    wh_outseg_t *s = c->out;
    for (; s && s->fd < 0 && n < IOV_BATCH; s = s->next) {
        iov[n].iov_base = s->data + s->offset;
        iov[n].iov_len = s->len - s->offset;
        n++;
    }
    /* A head followed by a file body: MSG_MORE lets the kernel put the head in the same packet
     * as the start of the file (nginx's tcp_nopush), instead of a small packet of its own. */
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t written = sendmsg(c->fd, &msg, (s && s->fd >= 0 ? MSG_MORE : 0) | MSG_NOSIGNAL);
    if (written <= 0)
        return written;
    bytes_written(c, (uint64_t)written);
    size_t left = (size_t)written;
    while (left > 0 && c->out && c->out->fd < 0) {
        wh_outseg_t *s = c->out;
        size_t avail = s->len - s->offset;
        if (left < avail) {
            s->offset += left;
            break;
        }
        left -= avail;
        pop_segment(c);
    }
    if (c->ex)
        wh_exchange_written(c->ex, (uint64_t)written);
    return written;
}

static ssize_t write_file(wh_conn_t *c)
{
    wh_outseg_t *s = c->out;
    off_t off = (off_t)s->offset;
    size_t want = s->len < SENDFILE_CHUNK ? s->len : SENDFILE_CHUNK;
    ssize_t n = sendfile(c->fd, s->fd, &off, want);
    if (n == 0) { /* the file shrank under us: the promised length cannot be met */
        errno = EIO;
        return -1;
    }
    if (n > 0) {
        bytes_written(c, (uint64_t)n);
        s->offset += (uint64_t)n;
        s->len -= (uint64_t)n;
        if (s->len == 0)
            pop_segment(c);
    }
    return n;
}

static void output_drained(wh_conn_t *c);

static void conn_flush(wh_conn_t *c)
{
    bool progressed = false;
    c->write_blocked = false;
    while (c->out && !c->closed) {
        ssize_t n = c->out->fd < 0 ? write_memory(c) : write_file(c);
        if (n >= 0) {
            progressed = true;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->write_blocked = true;
            break;
        }
        wh_log(WH_LOG_DEBUG, "%s: write failed: %s", c->remote_addr, strerror(errno));
        conn_close(c);
        return;
    }
    if (progressed && c->timer_kind == WH_TIMER_WRITE)
        c->timer_kind = WH_TIMER_NONE; /* progress: restart the write timeout */
    update_poll(c);
    update_timer(c);
    if (c->out == NULL)
        output_drained(c);
}

/* ---- closing ----------------------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *handle)
{
    wh_conn_t *c = handle->data;
    if (--c->handles_open > 0)
        return;
    wh_worker_t *w = c->worker;
    free(c);
    wh_worker_conn_closed(w);
}

static void conn_close(wh_conn_t *c)
{
    if (c->closed)
        return;
    c->closed = true;
    if (c->ex) {
        const wh_observer_t *obs = c->worker->observer;
        if (obs)
            obs->request_done(obs->self, c, WH_REQUEST_ABORTED);
        wh_exchange_detach(c->ex);
        wh_exchange_unref(c->ex);
        c->ex = NULL;
    }
    while (c->out)
        pop_segment(c);
    wh_http1_free(&c->http);
    wh_buf_free(&c->pending);
    uv_poll_stop(&c->poll);
    uv_timer_stop(&c->timer);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->worker->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->poll, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* Shuts our side and reads until the client closes: closing with unread input makes the
 * kernel send a reset, which can destroy the answer before the client reads it. */
static void linger_close(wh_conn_t *c)
{
    if (c->peer_eof || shutdown(c->fd, SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    c->state = WH_CONN_LINGER;
    wh_buf_free(&c->pending);
    update_poll(c);
    update_timer(c);
}

static void send_error(wh_conn_t *c, int status, const char *detail)
{
    wh_log(WH_LOG_DEBUG, "%s: %d %s: %s", c->remote_addr, status, wh_status_reason(status),
           detail ? detail : "");
    const wh_observer_t *obs = c->worker->observer;
    if (obs)
        obs->server_answer(obs->self, c, status);
    c->state = WH_CONN_ERROR;
    /* The request in progress is dropped now, not when the lingering close ends: its body may
     * be a spool file filling the disk (a 503 for a full disk would otherwise last longer). */
    wh_http1_reset(&c->http);
    wh_buf_t out = WH_BUF_INIT;
    if (wh_response_simple(&out, status, detail, NULL, true) != 0 ||
        queue_copy(c, out.data, out.len) != 0) {
        wh_buf_free(&out);
        conn_close(c);
        return;
    }
    wh_buf_free(&out);
    conn_flush(c);
}

/* ---- requests ---------------------------------------------------------------------------- */

static void response_done(wh_conn_t *c)
{
    const wh_observer_t *obs = c->worker->observer;
    if (obs) /* the access log line, metrics */
        obs->request_done(obs->self, c, WH_REQUEST_ANSWERED);
    /* A stopping worker keeps a connection whose answer did not announce the close: its client
     * may be sending the next request already, which gets `Connection: close` (see submit). */
    bool keep = !(c->ex_state & WH_EX_CLOSE) && c->ex->keep_alive_wanted;
    wh_exchange_unref(c->ex);
    c->ex = NULL;
    c->ex_state = 0;
    c->requests++;
    wh_worker_request_done(c->worker);
    if (!keep) {
        linger_close(c);
        return;
    }
    c->state = WH_CONN_READING;
    c->timer_kind = WH_TIMER_NONE;
    if (c->parsing)
        return; /* answered within parse(): its loop goes on with the bytes that follow */
    conn_process(c);
}

static void output_drained(wh_conn_t *c)
{
    switch (c->state) {
    case WH_CONN_APP:
        if (c->ex_state & WH_EX_FINISHED)
            response_done(c);
        return;
    case WH_CONN_ERROR:
        linger_close(c);
        return;
    default:
        return;
    }
}

static void submit(wh_conn_t *c)
{
    wh_worker_t *w = c->worker;
    wh_exchange_t *ex = wh_exchange_new(&w->notifier);
    if (ex == NULL) {
        send_error(c, 503, "out of memory");
        return;
    }
    /* A stopping worker announces the close (RFC 9112 §9.6), and so does the request that
     * reaches --max-requests: closing after a keep-alive answer could eat the next request. */
    bool last = wh_worker_request_started(w);
    bool keep_alive = c->http.keep_alive && !c->http.upgrade && !w->stopping && !last;
    bool http10 = c->http.parser.http_minor == 0;
    const wh_listener_t *l = c->listener;
    wh_peer_t peer = {
        {c->remote_addr, strlen(c->remote_addr)},
        {c->remote_port, strlen(c->remote_port)},
        {l->host, strlen(l->host)},
        {l->port, strlen(l->port)},
        {"http", 4},
    };
    if (wh_http1_take(&c->http, &peer, &ex->req, &ex->req_strings, &ex->req_headers,
                      &ex->req_body) != 0) {
        wh_exchange_unref(ex);
        send_error(c, 503, "out of memory");
        return;
    }
    /* One clock read serves the worker timeout and the observer's request duration. */
    c->start_ns = uv_hrtime();
    const wh_observer_t *obs = w->observer;
    const char *why = NULL;
    int refused = obs ? obs->request_start(obs->self, c, ex, &why) : 0; /* proxies, request ID */
    if (refused) {
        wh_exchange_unref(ex);
        send_error(c, refused, why);
        return;
    }
    if (l->is_unix)
        wh_request_server_from_host(&ex->req);
    ex->observer = obs;
    ex->owner = c;
    ex->head_request = ex->req.method.len == 4 && memcmp(ex->req.method.ptr, "HEAD", 4) == 0;
    ex->keep_alive_wanted = keep_alive;
    ex->http10 = http10;
    c->ex = ex;
    c->state = WH_CONN_APP;
    c->submitted_ms = c->start_ns / NS_PER_MS; /* CLOCK_MONOTONIC, as wh_monotonic_ms */
    for (size_t i = 0; i < w->local_handler_count; i++) {
        if (w->local_handlers[i].fn(w->local_handlers[i].ctx, ex)) {
            wh_conn_on_output(c);
            return;
        }
    }
    ex->queued_ms = c->submitted_ms;
    wh_jobq_push(w->jobq, ex);
    wh_shed_watch(&w->shed);
}

/* Feeds bytes to the parser until it needs more or stops at a request. Returns the bytes
 * consumed; the connection may have changed state (or closed). */
static size_t parse_requests(wh_conn_t *c, const char *data, size_t len)
{
    size_t total = 0;
    while (c->state == WH_CONN_READING && !c->closed) {
        size_t used;
        wh_http1_result_t r = wh_http1_feed(&c->http, data + total, len - total, &used);
        total += used;
        switch (r) {
        case WH_HTTP1_MORE:
            return total;
        case WH_HTTP1_HEAD: /* everything was consumed; the body is still to come */
            if (c->http.expect_continue && queue_copy(c, CONTINUE_100, sizeof(CONTINUE_100) - 1))
                send_error(c, 503, "out of memory");
            else if (c->http.expect_continue)
                conn_flush(c);
            return total;
        case WH_HTTP1_REQUEST:
            submit(c);
            break; /* answered at once (a local handler: static, probes)? parse what follows */
        case WH_HTTP1_ERROR:
            send_error(c, c->http.error_status, c->http.error_detail);
            return total;
        }
    }
    return total;
}

/* A local handler can answer within parse_requests(), and response_done() would then parse
 * the same unconsumed bytes again (a duplicate request and response per level); so while
 * parsing, response_done() leaves the rest to the loop above. */
static size_t parse(wh_conn_t *c, const char *data, size_t len)
{
    c->parsing = true;
    size_t used = parse_requests(c, data, len);
    c->parsing = false;
    return used;
}

static void handle_eof(wh_conn_t *c)
{
    if (c->state != WH_CONN_READING)
        return; /* handled once the request in hand is answered */
    if (wh_http1_eof(&c->http) == WH_HTTP1_ERROR)
        send_error(c, c->http.error_status, c->http.error_detail);
    else
        conn_close(c);
}

/* Parses what is pending (after a response, or after more bytes arrived while busy). */
static void conn_process(wh_conn_t *c)
{
    if (c->preamble) { /* e.g. --proxy-protocol: the header comes before any HTTP */
        const wh_observer_t *obs = c->worker->observer;
        int got = obs ? obs->preamble(obs->self, c) : -1;
        if (got < 0 || (got == 0 && c->peer_eof)) {
            conn_close(c);
            return;
        }
        if (got == 0) {
            update_poll(c);
            update_timer(c);
            return;
        }
    }
    if (c->state == WH_CONN_READING && c->pending.len > 0) {
        size_t used = parse(c, c->pending.data, c->pending.len);
        if (c->closed)
            return;
        wh_buf_consume(&c->pending, used);
    }
    if (c->closed)
        return;
    if (c->peer_eof)
        handle_eof(c);
    if (c->closed)
        return;
    update_poll(c);
    update_timer(c);
}

static void on_readable(wh_conn_t *c)
{
    wh_worker_t *w = c->worker;
    bool direct = c->state == WH_CONN_READING && c->pending.len == 0 && !c->preamble;
    char *dst = w->scratch;
    size_t cap = sizeof(w->scratch);
    if (c->state == WH_CONN_LINGER) {
        /* read into scratch and drop */
    } else if (!direct) {
        if (c->pending.len >= PENDING_MAX || wh_buf_reserve(&c->pending, PENDING_MAX / 4) != 0) {
            update_poll(c);
            return;
        }
        dst = c->pending.data + c->pending.len;
        cap = c->pending.cap - c->pending.len;
    }
    ssize_t n = read(c->fd, dst, cap);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_close(c);
        return;
    }
    if (n == 0) {
        c->peer_eof = true;
        if (c->state == WH_CONN_LINGER) {
            conn_close(c);
            return;
        }
        update_poll(c);
        conn_process(c);
        return;
    }
    if (c->state == WH_CONN_LINGER) {
        c->lingered += (uint64_t)n;
        if (c->lingered > LINGER_MAX_BYTES)
            conn_close(c);
        return;
    }
    if (!direct) {
        c->pending.len += (size_t)n;
        conn_process(c);
        return;
    }
    size_t used = parse(c, dst, (size_t)n);
    if (c->closed)
        return;
    if (used < (size_t)n && c->state != WH_CONN_ERROR &&
        wh_buf_append(&c->pending, dst + used, (size_t)n - used) != 0) {
        send_error(c, 503, "out of memory");
        return;
    }
    if (c->state == WH_CONN_READING && c->timer_kind == WH_TIMER_BODY)
        c->timer_kind = WH_TIMER_NONE; /* body progress: restart the body timeout */
    update_poll(c);
    update_timer(c);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    wh_conn_t *c = handle->data;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if ((events & UV_WRITABLE) && c->out)
        conn_flush(c);
    if (!c->closed && (events & UV_READABLE))
        on_readable(c);
}

/* ---- public ------------------------------------------------------------------------------ */

static void format_peer(wh_conn_t *c, const struct sockaddr *peer)
{
    c->remote_addr[0] = c->remote_port[0] = '\0';
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
        inet_ntop(AF_INET, &in->sin_addr, c->remote_addr, sizeof(c->remote_addr));
        snprintf(c->remote_port, sizeof(c->remote_port), "%u", ntohs(in->sin_port));
    } else if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, c->remote_addr, sizeof(c->remote_addr));
        snprintf(c->remote_port, sizeof(c->remote_port), "%u", ntohs(in6->sin6_port));
    }
}

int wh_conn_start(wh_worker_t *w, const wh_listener_t *l, int fd, const struct sockaddr *peer)
{
    const wh_observer_t *obs = w->observer;
    wh_conn_t *c = calloc(1, sizeof(*c) + (obs ? obs->conn_state_size : 0));
    if (c == NULL) {
        close(fd);
        return -1;
    }
    c->worker = w;
    c->listener = l;
    c->fd = fd;
    if (uv_poll_init(&w->loop, &c->poll, fd) != 0) {
        close(fd);
        free(c);
        return -1;
    }
    uv_timer_init(&w->loop, &c->timer); /* cannot fail: it only fills in the handle */
    c->poll.data = c->timer.data = c;
    c->handles_open = 2;
    format_peer(c, peer);
    wh_http1_init(&c->http, &w->limits);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->conn_count++;
    wh_worker_conns_changed(w);
    if (obs && !obs->conn_open(obs->self, c, peer)) { /* a PROXY port, a peer not allowed */
        conn_close(c);
        return 0;
    }
    update_poll(c);
    update_timer(c);
    return 0;
}

void wh_conn_on_output(wh_conn_t *c)
{
    if (c->closed || c->ex == NULL)
        return;
    append_output(c, wh_exchange_take_output(c->ex, &c->ex_state));
    conn_flush(c);
}

int wh_conn_wait_writable(wh_conn_t *c)
{
    if (c->closed)
        return -1;
    if (!c->write_blocked)
        return 0;
    double timeout_s = c->worker->cfg->write_timeout;
    int timeout_ms = -1; /* none */
    if (timeout_s > 0)
        timeout_ms = timeout_s < (double)INT_MAX / MS_PER_SECOND ? (int)(timeout_s * MS_PER_SECOND)
                                                                 : INT_MAX;
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    int n;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        wh_log(WH_LOG_DEBUG, "%s: %s", c->remote_addr,
               n == 0 ? "write timeout with the app waiting" : strerror(errno));
        conn_close(c);
        return -1;
    }
    conn_flush(c);
    return c->closed ? -1 : 0;
}

void wh_conn_stop(wh_conn_t *c, bool quick)
{
    if (quick || c->state == WH_CONN_LINGER) {
        conn_close(c);
        return;
    }
    /* Closing an idle keep-alive connection now would race a request its client may be
     * sending: it is read for the drain window instead (update_timer). A new connection that
     * has not sent its first request yet was promised an answer (bounded by the graceful
     * timeout); a busy one answers with `Connection: close` or goes on to the next request,
     * which does. */
    if (c->state == WH_CONN_READING && c->timer_kind == WH_TIMER_IDLE) {
        c->timer_kind = WH_TIMER_NONE;
        update_timer(c);
    }
}
