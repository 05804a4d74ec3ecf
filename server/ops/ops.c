/* Operations features on the request path (see server/ops/ops.h). */
#include "server/ops/ops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/http/conn.h"
#include "server/core/log.h"
#include "server/ops/proxyproto.h"

enum { NS_PER_US = 1000, NS_PER_S = 1000000000 };

static const wh_str_t HTTPS = {"https", 5};

_Static_assert(sizeof(((wh_exchange_t *)0)->request_id) >= WH_REQUEST_ID_MAX + 1,
               "the exchange's request_id must hold an accepted ID");

int wh_ops_init(wh_ops_t *ops, const wh_config_t *cfg, bool metrics, char *err, size_t err_size)
{
    memset(ops, 0, sizeof(*ops));
    char why[256];
    if (wh_cidr_list_parse(&ops->forwarded_allow, cfg->forwarded_allow_ips, why, sizeof(why))) {
        snprintf(err, err_size, "invalid --forwarded-allow-ips: %s", why);
        return -1;
    }
    if (wh_scheme_headers_parse(&ops->scheme_headers, cfg->secure_scheme_headers, why,
                                sizeof(why)) != 0) {
        snprintf(err, err_size, "invalid --secure-scheme-headers: %s", why);
        return -1;
    }
    if (wh_realip_header_parse(cfg->real_ip_header, &ops->realip_header) != 0) {
        snprintf(err, err_size, "invalid --real-ip-header '%s'", cfg->real_ip_header);
        return -1;
    }
    const char *from = cfg->real_ip_from ? cfg->real_ip_from : cfg->forwarded_allow_ips;
    if (wh_cidr_list_parse(&ops->realip_from, from, why, sizeof(why)) != 0) {
        snprintf(err, err_size, "invalid --real-ip-from: %s", why);
        return -1;
    }
    ops->proxy_protocol = cfg->proxy_protocol;
    if (wh_cidr_list_parse(&ops->proxy_allow, cfg->proxy_allow_from, why, sizeof(why)) != 0) {
        snprintf(err, err_size, "invalid --proxy-allow-from: %s", why);
        return -1;
    }
    ops->request_id = cfg->request_id;
    bool json = cfg->log_format && strcmp(cfg->log_format, "json") == 0;
    if (cfg->access_logfile) {
        ops->accesslog = wh_accesslog_new(cfg->access_logformat, json, why, sizeof(why));
        if (ops->accesslog == NULL) {
            snprintf(err, err_size, "%s", why);
            return -1;
        }
        const char *const *names = wh_accesslog_response_headers(ops->accesslog);
        ops->log_header_names = names[0] ? names : NULL;
    }
    ops->metrics = metrics;
    ops->timing = ops->accesslog != NULL || metrics;
    ops->health_path = cfg->health_path;
    ops->ready_path = cfg->ready_path;
    return 0;
}

void wh_ops_worker_start(wh_ops_t *ops, wh_slot_t *slot)
{
    wh_request_id_init(&ops->ids);
    ops->stats = slot != NULL && ops->metrics ? &slot->stats : NULL;
}

void wh_ops_free(wh_ops_t *ops)
{
    wh_accesslog_free(ops->accesslog);
    ops->accesslog = NULL;
}

/* ---- connections ------------------------------------------------------------------------- */

static void decide_trust(wh_conn_t *c)
{
    const wh_ops_t *ops = c->worker->ops;
    c->forwarded_trusted = wh_cidr_list_match(&ops->forwarded_allow, &c->peer_ip);
    c->realip_trusted =
        ops->realip_header != WH_REALIP_NONE && wh_cidr_list_match(&ops->realip_from, &c->peer_ip);
}

bool wh_ops_conn_start(wh_conn_t *c, const struct sockaddr *peer)
{
    wh_ops_t *ops = c->worker->ops;
    wh_ipaddr_from_sockaddr(peer, &c->peer_ip);
    if (ops->stats)
        wh_stat_add(&ops->stats->connections_total, 1);
    if (ops->proxy_protocol) {
        if (!wh_cidr_list_match(&ops->proxy_allow, &c->peer_ip)) {
            wh_log(WH_LOG_WARNING, "%s: not in --proxy-allow-from: connection closed",
                   c->remote_addr);
            return false;
        }
        c->proxy_wait = true;
    }
    decide_trust(c);
    return true;
}

int wh_ops_proxy_header(wh_conn_t *c)
{
    wh_proxy_result_t r;
    wh_proxy_status_t st = wh_proxy_parse(c->pending.data, c->pending.len, &r);
    if (st == WH_PROXY_MORE)
        return 0;
    if (st == WH_PROXY_ERROR) {
        wh_log(WH_LOG_WARNING, "%s: no valid PROXY protocol header: connection closed",
               c->remote_addr);
        return -1;
    }
    wh_buf_consume(&c->pending, r.consumed);
    c->proxy_wait = false;
    if (r.family == AF_INET || r.family == AF_INET6) {
        inet_ntop(r.family, r.src_addr, c->remote_addr, sizeof(c->remote_addr));
        snprintf(c->remote_port, sizeof(c->remote_port), "%u", r.src_port);
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        if (r.family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            in->sin_family = AF_INET;
            memcpy(&in->sin_addr, r.src_addr, 4);
        } else {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            in6->sin6_family = AF_INET6;
            memcpy(&in6->sin6_addr, r.src_addr, 16);
        }
        /* Trust is the client's now: its headers came through the balancer untouched. */
        wh_ipaddr_from_sockaddr((struct sockaddr *)&ss, &c->peer_ip);
        decide_trust(c);
    }
    return 1;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void take_request_id(wh_conn_t *c, wh_exchange_t *ex)
{
    wh_ops_t *ops = c->worker->ops;
    if (c->forwarded_trusted) {
        const wh_header_t *h = wh_request_header(&ex->req, "X-Request-ID");
        if (h && wh_request_id_valid(h->value)) {
            memcpy(ex->request_id, h->value.ptr, h->value.len);
            ex->request_id[h->value.len] = '\0';
            ex->req.request_id = (wh_str_t){ex->request_id, h->value.len};
            return;
        }
    }
    wh_request_id_next(&ops->ids, ex->request_id);
    ex->req.request_id = (wh_str_t){ex->request_id, WH_REQUEST_ID_GENERATED};
}

int wh_ops_request(wh_conn_t *c, wh_exchange_t *ex)
{
    wh_ops_t *ops = c->worker->ops;
    c->ops_handler = 0; /* a new request: its handler is found on its first write */
    if (c->forwarded_trusted) {
        bool present;
        int https = wh_forwarded_scheme(&ex->req, &ops->scheme_headers, &present);
        if (https < 0)
            return 400;
        if (https)
            ex->req.url_scheme = HTTPS;
    }
    if (c->realip_trusted) {
        wh_str_t addr, port;
        if (wh_realip_find(&ex->req, ops->realip_header, &ops->realip_from, &addr, &port)) {
            ex->req.remote_addr = addr;
            ex->req.remote_port = port;
        }
    }
    if (ops->request_id)
        take_request_id(c, ex);
    ex->log_header_names = ops->log_header_names;
    if (ops->stats)
        wh_stat_set32(&ops->stats->in_flight,
                      atomic_load_explicit(&ops->stats->in_flight, memory_order_relaxed) + 1);
    return 0;
}

static bool path_is(wh_str_t path, const char *p)
{
    return p != NULL && path.len == strlen(p) && memcmp(path.ptr, p, path.len) == 0;
}

static wh_handler_t find_handler(const wh_conn_t *c)
{
    const wh_exchange_t *ex = c->ex;
    if (ex == NULL)
        return WH_HANDLER_ERROR;
    if (!ex->local)
        return WH_HANDLER_APP;
    const wh_ops_t *ops = c->worker->ops;
    if (path_is(ex->req.path, ops->health_path) || path_is(ex->req.path, ops->ready_path))
        return WH_HANDLER_PROBE;
    return WH_HANDLER_STATIC;
}

/* The handler answering c's request, found once per request (it is asked on every write, and
 * the probe test compares paths): cached in c->ops_handler, which wh_ops_request resets. */
static wh_handler_t handler_of(wh_conn_t *c)
{
    if (c->ex == NULL)
        return WH_HANDLER_ERROR; /* the server's own answer to a request it did not take */
    if (c->ops_handler == 0)
        c->ops_handler = (uint8_t)(find_handler(c) + 1);
    return (wh_handler_t)(c->ops_handler - 1);
}

void wh_ops_bytes_written(wh_conn_t *c, uint64_t n)
{
    wh_ops_t *ops = c->worker->ops;
    if (ops && ops->stats)
        wh_stat_add(&ops->stats->bytes_sent[handler_of(c)], n);
}

static void in_flight_done(wh_ops_t *ops)
{
    uint32_t v = atomic_load_explicit(&ops->stats->in_flight, memory_order_relaxed);
    wh_stat_set32(&ops->stats->in_flight, v ? v - 1 : 0);
}

/* The wall-clock time at monotonic time `mono_ns` (uv_hrtime): CLOCK_REALTIME is read at
 * most once a second and advanced by the monotonic clock in between, which saves a clock read
 * per access line; a step of the wall clock shows within a second, and slewing (at most
 * 500 ppm) moves it by under a millisecond meanwhile. Loop thread only. */
static struct timespec wall_time(uint64_t mono_ns)
{
    static uint64_t base_mono, base_wall; /* base_wall 0: not read yet */
    if (base_wall == 0 || mono_ns - base_mono >= NS_PER_S) {
        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME, &now) != 0)
            return (struct timespec){0, 0};
        base_mono = mono_ns;
        base_wall = (uint64_t)now.tv_sec * NS_PER_S + (uint64_t)now.tv_nsec;
        return now;
    }
    uint64_t wall = base_wall + (mono_ns - base_mono);
    return (struct timespec){(time_t)(wall / NS_PER_S), (long)(wall % NS_PER_S)};
}

/* Formats the line straight into the access log's batch buffer. */
static void access_line(const wh_ops_t *ops, const wh_access_entry_t *e)
{
    wh_buf_t *batch = wh_log_access_buffer();
    if (batch == NULL)
        return;
    size_t before = batch->len;
    if (wh_accesslog_format(ops->accesslog, e, batch) != 0) {
        /* No memory to grow the batch: write it out and format again in its room. */
        batch->len = before;
        wh_log_access_flush();
        if (wh_accesslog_format(ops->accesslog, e, batch) != 0) {
            wh_buf_reset(batch);
            return;
        }
    }
    wh_log_access_added();
}

void wh_ops_response_done(wh_conn_t *c)
{
    wh_ops_t *ops = c->worker->ops;
    wh_exchange_t *ex = c->ex;
    uint64_t end_ns = ops->timing ? uv_hrtime() : 0;
    uint64_t duration_us = ops->timing ? (end_ns - c->start_ns) / NS_PER_US : 0;
    if (ops->stats) {
        wh_stats_record(ops->stats, handler_of(c), ex->req.method, ex->status_code, duration_us);
        in_flight_done(ops);
    }
    if (ops->accesslog == NULL)
        return;
    wh_access_entry_t e = {
        .req = &ex->req,
        .status = ex->status_code,
        .body_bytes = ex->body_written,
        .duration_us = duration_us,
        .request_id = ex->req.request_id,
        .resp_headers = ex->log_headers,
        .resp_header_count = ex->log_header_count,
        .now = wall_time(end_ns),
    };
    access_line(ops, &e);
}

void wh_ops_request_aborted(wh_conn_t *c)
{
    wh_ops_t *ops = c->worker->ops;
    if (ops && ops->stats)
        in_flight_done(ops);
}

void wh_ops_error_response(wh_conn_t *c, int status)
{
    wh_ops_t *ops = c->worker->ops;
    if (ops && ops->stats)
        wh_stats_record(ops->stats, WH_HANDLER_ERROR, (wh_str_t){"", 0}, status, 0);
}
