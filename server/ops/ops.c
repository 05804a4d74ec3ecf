/* Operations features on the request path (see server/ops/ops.h). */
#include "server/ops/ops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/core/errmsg.h"
#include "server/core/log.h"
#include "server/core/util.h"
#include "server/http/conn.h"
#include "server/ops/metrics.h"
#include "server/ops/proxyproto.h"

enum { NS_PER_US = 1000, NS_PER_S = 1000000000 };

static const wh_str_t HTTPS = {"https", 5};

_Static_assert((int)WH_EXCHANGE_TEXT_MAX >= (int)WH_REQUEST_ID_MAX,
               "an exchange must have room for an accepted request ID");

/* What ops keeps per connection (the connection's observer state). */
typedef struct {
    wh_ipaddr_t peer_ip;    /* the client (after a PROXY header), for trust decisions */
    bool forwarded_trusted; /* --forwarded-allow-ips: its scheme headers and request ID count */
    bool realip_trusted;    /* --real-ip-from: its X-Forwarded-For / Forwarded counts */
    uint8_t handler;        /* the request's metrics handler + 1, 0 until known */
} ops_conn_t;

static ops_conn_t *state_of(wh_conn_t *c)
{
    return wh_conn_observer_state(c);
}

int wh_ops_check_config(const wh_config_t *cfg, char *err, size_t err_size)
{
    char why[256];
    wh_cidr_list_t list;
    const struct {
        const char *name;
        const char *value;
    } lists[] = {{"forwarded-allow-ips", cfg->forwarded_allow_ips},
                 {"real-ip-from", cfg->real_ip_from},
                 {"proxy-allow-from", cfg->proxy_allow_from}};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (lists[i].value && wh_cidr_list_parse(&list, lists[i].value, why, sizeof(why)) != 0)
            return wh_errorf(err, err_size, "invalid --%s: %s", lists[i].name, why);
    }
    wh_realip_header_t which;
    if (wh_realip_header_parse(cfg->real_ip_header, &which) != 0)
        return wh_errorf(err, err_size,
                         "invalid --real-ip-header '%s': use X-Forwarded-For or Forwarded",
                         cfg->real_ip_header);
    wh_scheme_headers_t headers;
    if (wh_scheme_headers_parse(&headers, cfg->secure_scheme_headers, why, sizeof(why)) != 0)
        return wh_errorf(err, err_size, "invalid --secure-scheme-headers: %s", why);
    wh_accesslog_t *compiled = wh_accesslog_new(cfg->access_logformat, false, why, sizeof(why));
    if (compiled == NULL)
        return wh_errorf(err, err_size, "invalid --access-logformat: %s", why);
    wh_accesslog_free(compiled);
    return 0;
}

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

static void decide_trust(const wh_ops_t *ops, ops_conn_t *st)
{
    st->forwarded_trusted = wh_cidr_list_match(&ops->forwarded_allow, &st->peer_ip);
    st->realip_trusted =
        ops->realip_header != WH_REALIP_NONE && wh_cidr_list_match(&ops->realip_from, &st->peer_ip);
}

static bool conn_open(void *self, wh_conn_t *c, const struct sockaddr *peer)
{
    wh_ops_t *ops = self;
    ops_conn_t *st = state_of(c);
    wh_ipaddr_from_sockaddr(peer, &st->peer_ip);
    if (ops->stats)
        wh_stat_add(&ops->stats->connections_total, 1);
    if (ops->proxy_protocol) {
        if (!wh_cidr_list_match(&ops->proxy_allow, &st->peer_ip)) {
            wh_log(WH_LOG_WARNING, "%s: not in --proxy-allow-from: connection closed",
                   c->remote_addr);
            return false;
        }
        c->preamble = true;
    }
    decide_trust(ops, st);
    return true;
}

/* --proxy-protocol: the PROXY header, before any HTTP. */
static int preamble(void *self, wh_conn_t *c)
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
    c->preamble = false;
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
        ops_conn_t *oc = state_of(c);
        wh_ipaddr_from_sockaddr((struct sockaddr *)&ss, &oc->peer_ip);
        decide_trust(self, oc);
    }
    return 1;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void take_request_id(wh_ops_t *ops, const ops_conn_t *st, wh_exchange_t *ex)
{
    wh_str_t id = {NULL, 0};
    char made[WH_REQUEST_ID_GENERATED + 1];
    const wh_header_t *h =
        st->forwarded_trusted ? wh_request_header(&ex->req, "X-Request-ID") : NULL;
    if (h && wh_request_id_valid(h->value)) {
        id = h->value;
    } else {
        wh_request_id_next(&ops->ids, made);
        id = (wh_str_t){made, WH_REQUEST_ID_GENERATED};
    }
    /* The exchange keeps it: the request outlives the connection if the client goes. */
    const char *kept = wh_exchange_keep_text(ex, id.ptr, id.len);
    if (kept)
        ex->req.request_id = (wh_str_t){kept, id.len};
}

static int request_start(void *self, wh_conn_t *c, wh_exchange_t *ex, const char **why)
{
    wh_ops_t *ops = self;
    ops_conn_t *st = state_of(c);
    st->handler = 0; /* a new request: its handler is found on its first write */
    if (st->forwarded_trusted) {
        bool present;
        int https = wh_forwarded_scheme(&ex->req, &ops->scheme_headers, &present);
        if (https < 0) {
            *why = "contradictory scheme headers";
            return 400;
        }
        if (https)
            ex->req.url_scheme = HTTPS;
    }
    if (st->realip_trusted) {
        wh_str_t addr, port;
        if (wh_realip_find(&ex->req, ops->realip_header, &ops->realip_from, &addr, &port)) {
            ex->req.remote_addr = addr;
            ex->req.remote_port = port;
        }
    }
    if (ops->request_id)
        take_request_id(ops, st, ex);
    if (ops->stats)
        wh_stat_set32(&ops->stats->in_flight,
                      atomic_load_explicit(&ops->stats->in_flight, memory_order_relaxed) + 1);
    return 0;
}

static wh_handler_t find_handler(const wh_ops_t *ops, const wh_conn_t *c)
{
    const wh_exchange_t *ex = c->ex;
    if (ex == NULL)
        return WH_HANDLER_ERROR;
    if (!ex->local)
        return WH_HANDLER_APP;
    if (wh_str_is(ex->req.path, ops->health_path) || wh_str_is(ex->req.path, ops->ready_path))
        return WH_HANDLER_PROBE;
    return WH_HANDLER_STATIC;
}

/* The handler answering c's request, found once per request (it is asked on every write, and
 * the probe test compares paths): cached in the connection's state, which request_start
 * resets. */
static wh_handler_t handler_of(const wh_ops_t *ops, wh_conn_t *c)
{
    if (c->ex == NULL)
        return WH_HANDLER_ERROR; /* the server's own answer to a request it did not take */
    ops_conn_t *st = state_of(c);
    if (st->handler == 0)
        st->handler = (uint8_t)(find_handler(ops, c) + 1);
    return (wh_handler_t)(st->handler - 1);
}

static void bytes_written(void *self, wh_conn_t *c, uint64_t n)
{
    wh_ops_t *ops = self;
    if (ops->stats)
        wh_stat_add(&ops->stats->bytes_sent[handler_of(ops, c)], n);
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

/* --access-logformat {Name}o: the values of the named headers of the response as it goes
 * out (the last of repeated ones, as gunicorn's dict of them), each cut to
 * WH_ACCESSLOG_VALUE_MAX bytes so a request keeps a bounded amount; one allocation, and only
 * when the format names response headers. */
typedef struct {
    size_t count;
    wh_header_t headers[];
} kept_headers_t;

static void response_head(void *self, wh_exchange_t *ex, int status, const wh_header_t *headers,
                          size_t count)
{
    (void)status;
    const wh_ops_t *ops = self;
    if (ops->log_header_names == NULL)
        return;
    const char *names[WH_ACCESSLOG_RESPONSE_HEADERS_MAX];
    const wh_str_t *values[WH_ACCESSLOG_RESPONSE_HEADERS_MAX];
    size_t n = 0, bytes = 0;
    for (size_t k = 0; k < WH_ACCESSLOG_RESPONSE_HEADERS_MAX && ops->log_header_names[k]; k++) {
        const char *name = ops->log_header_names[k]; /* never hop-by-hop (accesslog.c) */
        const wh_str_t *last = NULL;
        for (size_t i = 0; i < count; i++) {
            if (wh_name_equals(headers[i].name, name))
                last = &headers[i].value;
        }
        if (last == NULL)
            continue;
        names[n] = name;
        values[n++] = last;
        bytes += last->len < WH_ACCESSLOG_VALUE_MAX ? last->len : WH_ACCESSLOG_VALUE_MAX;
    }
    free(ex->observer_data); /* a 500 replacing a started head: the answer's own headers */
    ex->observer_data = NULL;
    if (n == 0)
        return;
    kept_headers_t *kept = malloc(sizeof(*kept) + n * sizeof(kept->headers[0]) + bytes);
    if (kept == NULL)
        return; /* the line shows "-": logging never fails a response */
    char *p = (char *)(kept->headers + n);
    for (size_t i = 0; i < n; i++) {
        size_t len =
            values[i]->len < WH_ACCESSLOG_VALUE_MAX ? values[i]->len : WH_ACCESSLOG_VALUE_MAX;
        memcpy(p, values[i]->ptr, len);
        kept->headers[i] = (wh_header_t){{names[i], strlen(names[i])}, {p, len}};
        p += len;
    }
    kept->count = n;
    ex->observer_data = kept;
}

static void exchange_free(void *self, void *data)
{
    (void)self;
    free(data);
}

static void response_done(wh_ops_t *ops, wh_conn_t *c)
{
    wh_exchange_t *ex = c->ex;
    uint64_t end_ns = ops->timing ? uv_hrtime() : 0;
    uint64_t duration_us = ops->timing ? (end_ns - c->start_ns) / NS_PER_US : 0;
    if (ops->stats) {
        wh_stats_record(ops->stats, handler_of(ops, c), ex->req.method, ex->status_code,
                        duration_us);
        in_flight_done(ops);
    }
    if (ops->accesslog == NULL)
        return;
    const kept_headers_t *kept = ex->observer_data;
    wh_access_entry_t e = {
        .req = &ex->req,
        .status = ex->status_code,
        .body_bytes = ex->body_written,
        .duration_us = duration_us,
        .request_id = ex->req.request_id,
        .resp_headers = kept ? kept->headers : NULL,
        .resp_header_count = kept ? kept->count : 0,
        .now = wall_time(end_ns),
    };
    access_line(ops, &e);
}

static void request_done(void *self, wh_conn_t *c, wh_request_end_t how)
{
    wh_ops_t *ops = self;
    if (how == WH_REQUEST_ANSWERED)
        response_done(ops, c);
    else if (ops->stats)
        in_flight_done(ops);
}

static void server_answer(void *self, wh_conn_t *c, int status)
{
    (void)c;
    wh_ops_t *ops = self;
    if (ops->stats)
        wh_stats_record(ops->stats, WH_HANDLER_ERROR, (wh_str_t){"", 0}, status, 0);
}

const wh_observer_t *wh_ops_observer(wh_ops_t *ops)
{
    ops->observer = (wh_observer_t){
        .self = ops,
        .conn_state_size = sizeof(ops_conn_t),
        .conn_open = conn_open,
        .preamble = preamble,
        .request_start = request_start,
        .response_head = response_head,
        .bytes_written = bytes_written,
        .request_done = request_done,
        .server_answer = server_answer,
        .exchange_free = exchange_free,
    };
    return &ops->observer;
}
