/* Prometheus metrics (see server/ops/metrics.h). */
#include "server/ops/metrics.h"
#include "server/core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Upper bounds of the duration buckets, in microseconds (the last bucket is +Inf). */
static const uint64_t bucket_us[WH_STAT_BUCKETS - 1] = {
    500,    1000,   2500,   5000,    10000,   25000,   50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};
static const char *const bucket_le[WH_STAT_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf",
};
static const char *const handler_names[WH_STAT_HANDLERS] = {"app", "static", "probe", "error"};
static const char *const method_names[WH_STAT_METHODS] = {"GET",    "HEAD",  "POST",    "PUT",
                                                          "DELETE", "PATCH", "OPTIONS", "other"};
static const char *const class_names[WH_STAT_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

int wh_stat_method_index(wh_str_t m)
{
    for (int i = 0; i < WH_STAT_METHODS - 1; i++) {
        size_t len = strlen(method_names[i]);
        if (m.len == len && memcmp(m.ptr, method_names[i], len) == 0)
            return i;
    }
    return WH_STAT_METHODS - 1;
}

void wh_stats_record(wh_slot_stats_t *s, wh_handler_t handler, wh_str_t method, int status,
                     uint64_t duration_us)
{
    int cls = status / 100 - 1;
    if (cls < 0 || cls >= WH_STAT_CLASSES)
        cls = WH_STAT_CLASSES - 1;
    wh_stat_add(&s->requests[handler][wh_stat_method_index(method)][cls], 1);
    int b = 0;
    while (b < WH_STAT_BUCKETS - 1 && duration_us > bucket_us[b])
        b++;
    wh_stat_add(&s->duration_buckets[handler][b], 1);
    wh_stat_add(&s->duration_us_sum[handler], duration_us);
}

static uint64_t load64(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void fold64(_Atomic uint64_t *dst, _Atomic uint64_t *src)
{
    wh_stat_add(dst, load64(src));
    atomic_store_explicit(src, 0, memory_order_relaxed);
}

void wh_metrics_fold_slot(wh_scoreboard_t *sb, int slot)
{
    wh_slot_stats_t *s = &sb->slots[slot].stats, *r = &sb->retired;
    for (int h = 0; h < WH_STAT_HANDLERS; h++) {
        for (int m = 0; m < WH_STAT_METHODS; m++)
            for (int c = 0; c < WH_STAT_CLASSES; c++)
                fold64(&r->requests[h][m][c], &s->requests[h][m][c]);
        for (int b = 0; b < WH_STAT_BUCKETS; b++)
            fold64(&r->duration_buckets[h][b], &s->duration_buckets[h][b]);
        fold64(&r->duration_us_sum[h], &s->duration_us_sum[h]);
        fold64(&r->bytes_sent[h], &s->bytes_sent[h]);
    }
    fold64(&r->connections_total, &s->connections_total);
    fold64(&r->queue_timeouts, &s->queue_timeouts);
    atomic_store_explicit(&s->in_flight, 0, memory_order_relaxed);
    atomic_store_explicit(&s->queue_depth, 0, memory_order_relaxed);
}

/* ---- rendering --------------------------------------------------------------------------- */

/* Sums of every slot's counters and the retired ones. */
typedef struct {
    uint64_t requests[WH_STAT_HANDLERS][WH_STAT_METHODS][WH_STAT_CLASSES];
    uint64_t buckets[WH_STAT_HANDLERS][WH_STAT_BUCKETS];
    uint64_t sum_us[WH_STAT_HANDLERS];
    uint64_t bytes[WH_STAT_HANDLERS];
    uint64_t connections_total;
    uint64_t queue_timeouts;
    uint64_t in_flight, queue_depth, conns_open;
    uint64_t workers[4]; /* by slot state */
} totals_t;

static void add_stats(totals_t *t, const wh_slot_stats_t *s)
{
    for (int h = 0; h < WH_STAT_HANDLERS; h++) {
        for (int m = 0; m < WH_STAT_METHODS; m++)
            for (int c = 0; c < WH_STAT_CLASSES; c++)
                t->requests[h][m][c] += load64(&s->requests[h][m][c]);
        for (int b = 0; b < WH_STAT_BUCKETS; b++)
            t->buckets[h][b] += load64(&s->duration_buckets[h][b]);
        t->sum_us[h] += load64(&s->duration_us_sum[h]);
        t->bytes[h] += load64(&s->bytes_sent[h]);
    }
    t->connections_total += load64(&s->connections_total);
    t->queue_timeouts += load64(&s->queue_timeouts);
}

static int help(wh_buf_t *out, const char *name, const char *type, const char *text)
{
    return wh_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static int render_histograms(wh_buf_t *out, const totals_t *t)
{
    const char *name = "wsgihost_request_duration_seconds";
    if (help(out, name, "histogram",
             "Time from a complete request to the last byte of its response handed to the "
             "kernel, by handler.") != 0)
        return -1;
    for (int h = 0; h < WH_STAT_HANDLERS; h++) {
        uint64_t count = 0;
        for (int b = 0; b < WH_STAT_BUCKETS; b++)
            count += t->buckets[h][b];
        if (count == 0 && h != WH_HANDLER_APP)
            continue;
        uint64_t cumulative = 0;
        for (int b = 0; b < WH_STAT_BUCKETS; b++) {
            cumulative += t->buckets[h][b];
            if (wh_buf_printf(out, "%s_bucket{handler=\"%s\",le=\"%s\"} %" PRIu64 "\n", name,
                              handler_names[h], bucket_le[b], cumulative) != 0)
                return -1;
        }
        if (wh_buf_printf(out, "%s_sum{handler=\"%s\"} %" PRIu64 ".%06" PRIu64 "\n", name,
                          handler_names[h], t->sum_us[h] / 1000000, t->sum_us[h] % 1000000) ||
            wh_buf_printf(out, "%s_count{handler=\"%s\"} %" PRIu64 "\n", name, handler_names[h],
                          count))
            return -1;
    }
    return 0;
}

int wh_metrics_render(const wh_scoreboard_t *sb, wh_buf_t *out)
{
    totals_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    add_stats(t, &sb->retired);
    for (int i = 0; i < WH_SCOREBOARD_SLOTS; i++) {
        const wh_slot_t *slot = &sb->slots[i];
        int state = atomic_load(&slot->state);
        add_stats(t, &slot->stats);
        if (state == WH_SLOT_FREE)
            continue;
        t->workers[state]++;
        t->in_flight += atomic_load_explicit(&slot->stats.in_flight, memory_order_relaxed);
        t->queue_depth += atomic_load_explicit(&slot->stats.queue_depth, memory_order_relaxed);
        t->conns_open += atomic_load_explicit(&slot->conns, memory_order_relaxed);
    }
    int rc = help(out, "wsgihost_requests_total", "counter",
                  "Requests answered, by handler (app: the WSGI app; static: static files; probe: "
                  "health and readiness; error: the server's own answers to bad requests), "
                  "method and status class.");
    bool any = false;
    for (int h = 0; h < WH_STAT_HANDLERS && rc == 0; h++) {
        for (int m = 0; m < WH_STAT_METHODS && rc == 0; m++) {
            for (int c = 0; c < WH_STAT_CLASSES && rc == 0; c++) {
                uint64_t v = t->requests[h][m][c];
                if (v == 0)
                    continue;
                any = true;
                rc = wh_buf_printf(out,
                                   "wsgihost_requests_total{handler=\"%s\",method=\"%s\","
                                   "status=\"%s\"} %" PRIu64 "\n",
                                   handler_names[h], method_names[m], class_names[c], v);
            }
        }
    }
    if (rc == 0 && !any) /* a series from the start, so rate() works from the first request */
        rc = wh_buf_printf(out, "wsgihost_requests_total{handler=\"app\",method=\"GET\","
                                "status=\"2xx\"} 0\n");
    if (rc == 0)
        rc = render_histograms(out, t);
    if (rc == 0)
        rc = help(out, "wsgihost_response_bytes_total", "counter",
                  "Bytes written to clients (heads and bodies), by handler.");
    for (int h = 0; h < WH_STAT_HANDLERS && rc == 0; h++)
        rc = wh_buf_printf(out, "wsgihost_response_bytes_total{handler=\"%s\"} %" PRIu64 "\n",
                           handler_names[h], t->bytes[h]);
    if (rc == 0)
        rc = help(out, "wsgihost_requests_in_flight", "gauge",
                  "Requests received completely and not answered yet.") ||
             wh_buf_printf(out, "wsgihost_requests_in_flight %" PRIu64 "\n", t->in_flight) ||
             help(out, "wsgihost_app_queue_depth", "gauge",
                  "Requests waiting for a free Python thread (sampled every second).") ||
             wh_buf_printf(out, "wsgihost_app_queue_depth %" PRIu64 "\n", t->queue_depth) ||
             help(out, "wsgihost_queue_timeouts_total", "counter",
                  "Requests answered 503 because they waited longer than --queue-timeout for "
                  "a Python thread.") ||
             wh_buf_printf(out, "wsgihost_queue_timeouts_total %" PRIu64 "\n", t->queue_timeouts) ||
             help(out, "wsgihost_connections_open", "gauge", "Open client connections.") ||
             wh_buf_printf(out, "wsgihost_connections_open %" PRIu64 "\n", t->conns_open) ||
             help(out, "wsgihost_connections_total", "counter", "Client connections accepted.") ||
             wh_buf_printf(out, "wsgihost_connections_total %" PRIu64 "\n", t->connections_total) ||
             help(out, "wsgihost_workers", "gauge", "Worker processes, by state.") ||
             wh_buf_printf(out,
                           "wsgihost_workers{state=\"booting\"} %" PRIu64 "\n"
                           "wsgihost_workers{state=\"ready\"} %" PRIu64 "\n"
                           "wsgihost_workers{state=\"stopping\"} %" PRIu64 "\n",
                           t->workers[WH_SLOT_BOOTING], t->workers[WH_SLOT_READY],
                           t->workers[WH_SLOT_STOPPING]) ||
             help(out, "wsgihost_worker_restarts_total", "counter",
                  "Workers replaced after dying unexpectedly (crash, kill, os._exit).") ||
             wh_buf_printf(out, "wsgihost_worker_restarts_total %" PRIu64 "\n",
                           (uint64_t)atomic_load(&sb->worker_restarts)) ||
             help(out, "wsgihost_worker_timeouts_total", "counter",
                  "Workers retired because a request stayed in the app past --timeout.") ||
             wh_buf_printf(out, "wsgihost_worker_timeouts_total %" PRIu64 "\n",
                           (uint64_t)atomic_load(&sb->worker_timeouts)) ||
             help(out, "wsgihost_worker_recycles_total", "counter",
                  "Workers recycled after --max-requests.") ||
             wh_buf_printf(out, "wsgihost_worker_recycles_total %" PRIu64 "\n",
                           (uint64_t)atomic_load(&sb->worker_recycles));
    free(t);
    return rc ? -1 : 0;
}

/* ---- the master's /metrics server -------------------------------------------------------- */

/* The scrape endpoint must answer while someone holds connections to it: it accepts every
 * connection at once (up to ACCEPT_BATCH per wake-up), and when all MAX_CLIENTS slots are taken
 * the oldest client still sending its request (else the oldest of all) makes room. A request
 * head must arrive within HEAD_DEADLINE_MS (a scraper sends it with the connection); the
 * answer gets WRITE_DEADLINE_MS. */
enum {
    MAX_CLIENTS = 8,
    ACCEPT_BATCH = 64,
    REQUEST_MAX = 8192,
    HEAD_DEADLINE_MS = 1000,
    WRITE_DEADLINE_MS = 5000,
};

typedef struct {
    int fd;            /* -1: free */
    uint64_t accepted; /* accept order, to find the oldest */
    uint64_t deadline_ms;
    wh_buf_t in;
    wh_buf_t out;
    size_t sent;
    bool writing;
} client_t;

struct wh_metrics_server {
    wh_listener_t listener;
    wh_scoreboard_t *sb;
    client_t clients[MAX_CLIENTS];
    uint64_t accepts;
};

wh_metrics_server_t *wh_metrics_server_new(wh_listener_t *listener, wh_scoreboard_t *sb)
{
    wh_metrics_server_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->listener = *listener;
    m->sb = sb;
    for (int i = 0; i < MAX_CLIENTS; i++)
        m->clients[i].fd = -1;
    return m;
}

static void client_close(client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    wh_buf_free(&c->in);
    wh_buf_free(&c->out);
    c->sent = 0;
    c->writing = false;
}

void wh_metrics_server_forget(wh_metrics_server_t *m)
{
    if (m == NULL)
        return;
    close(m->listener.fd);
    m->listener.fd = -1;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (m->clients[i].fd >= 0)
            close(m->clients[i].fd);
        m->clients[i].fd = -1;
    }
}

void wh_metrics_server_free(wh_metrics_server_t *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        client_close(&m->clients[i]);
    if (m->listener.fd >= 0)
        wh_listener_close(&m->listener);
    free(m);
}

int wh_metrics_server_pollfds(wh_metrics_server_t *m, struct pollfd *fds, int max)
{
    int n = 0;
    if (m->listener.fd >= 0 && n < max) /* always: a full house makes room (accept_clients) */
        fds[n++] = (struct pollfd){.fd = m->listener.fd, .events = POLLIN};
    for (int i = 0; i < MAX_CLIENTS && n < max; i++) {
        client_t *c = &m->clients[i];
        if (c->fd >= 0)
            fds[n++] = (struct pollfd){.fd = c->fd, .events = c->writing ? POLLOUT : POLLIN};
    }
    return n;
}

static void respond(wh_metrics_server_t *m, client_t *c)
{
    /* "GET /metrics HTTP/1.1": anything but GET or HEAD of /metrics (a query is ignored) is
     * 404 or 405. */
    const char *line_end = memchr(c->in.data, '\r', c->in.len);
    size_t line_len = line_end ? (size_t)(line_end - c->in.data) : c->in.len;
    const char *sp1 = memchr(c->in.data, ' ', line_len);
    bool head = sp1 && sp1 - c->in.data == 4 && memcmp(c->in.data, "HEAD", 4) == 0;
    bool get = sp1 && sp1 - c->in.data == 3 && memcmp(c->in.data, "GET", 3) == 0;
    const char *path = sp1 ? sp1 + 1 : NULL;
    size_t path_len = 0;
    while (path && path + path_len < c->in.data + line_len && path[path_len] != ' ' &&
           path[path_len] != '?')
        path_len++;
    int status = 200;
    wh_buf_t body = WH_BUF_INIT;
    if (!get && !head)
        status = 405;
    else if (!(path_len == 8 && memcmp(path, "/metrics", 8) == 0) &&
             !(path_len == 1 && path[0] == '/'))
        status = 404;
    else if (wh_metrics_render(m->sb, &body) != 0)
        status = 500;
    const char *reason = status == 200   ? "OK"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                                         : "Internal Server Error";
    if (status != 200) {
        wh_buf_reset(&body);
        wh_buf_printf(&body, "%d %s\n", status, reason);
    }
    wh_buf_reset(&c->out);
    int rc = wh_buf_printf(&c->out,
                           "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                           "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                           status, reason,
                           status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
                                         : "text/plain; charset=utf-8",
                           body.len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (rc == 0 && !head)
        rc = wh_buf_append(&c->out, body.data, body.len);
    wh_buf_free(&body);
    if (rc != 0) {
        client_close(c);
        return;
    }
    c->writing = true;
    c->sent = 0;
}

static void client_write(client_t *c);

static void client_read(wh_metrics_server_t *m, client_t *c)
{
    if (wh_buf_reserve(&c->in, 1024) != 0) {
        client_close(c);
        return;
    }
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_close(c);
        return;
    }
    c->in.len += (size_t)n;
    if (memmem(c->in.data, c->in.len, "\r\n\r\n", 4) || memmem(c->in.data, c->in.len, "\n\n", 2)) {
        respond(m, c);
        c->deadline_ms = wh_monotonic_ms() + WRITE_DEADLINE_MS;
        if (c->fd >= 0)
            client_write(c); /* usually all of it fits in the socket buffer at once */
    } else if (c->in.len > REQUEST_MAX)
        client_close(c);
}

static void client_write(client_t *c)
{
    while (c->sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            client_close(c);
            return;
        }
        c->sent += (size_t)n;
    }
    shutdown(c->fd, SHUT_WR);
    client_close(c);
}

/* A free slot, or the one to evict: the oldest client still sending its request, else the
 * oldest of all. */
static client_t *slot_for_new(wh_metrics_server_t *m)
{
    client_t *oldest_reading = NULL, *oldest = NULL;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        client_t *c = &m->clients[i];
        if (c->fd < 0)
            return c;
        if (!c->writing && (oldest_reading == NULL || c->accepted < oldest_reading->accepted))
            oldest_reading = c;
        if (oldest == NULL || c->accepted < oldest->accepted)
            oldest = c;
    }
    client_t *victim = oldest_reading ? oldest_reading : oldest;
    client_close(victim);
    return victim;
}

static void accept_clients(wh_metrics_server_t *m)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(m->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        client_t *c = slot_for_new(m);
        c->fd = fd;
        c->accepted = ++m->accepts;
        c->deadline_ms = wh_monotonic_ms() + HEAD_DEADLINE_MS;
        client_read(m, c); /* a scraper's request usually came with the connection */
    }
}

void wh_metrics_server_handle(wh_metrics_server_t *m, const struct pollfd *fds, int count)
{
    for (int k = 0; k < count; k++) {
        if (fds[k].revents == 0)
            continue;
        if (fds[k].fd == m->listener.fd) {
            accept_clients(m);
            continue;
        }
        for (int i = 0; i < MAX_CLIENTS; i++) {
            client_t *c = &m->clients[i];
            if (c->fd != fds[k].fd)
                continue;
            if (c->writing)
                client_write(c);
            else
                client_read(m, c);
            break;
        }
    }
    uint64_t now = wh_monotonic_ms();
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (m->clients[i].fd >= 0 && now >= m->clients[i].deadline_ms)
            client_close(&m->clients[i]);
    }
}
