#include "server/container/probes.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http/conn.h"
#include "server/http/exchange_loop.h"
#include "server/core/log.h"
#include "server/container/pgcheck.h"
#include "server/container/pgconf.h"
#include "server/container/pq.h"
#include "server/core/scoreboard.h"

/* One readiness ping may take this long; probes waiting for it wait as long. */
enum { PING_TIMEOUT_S = WH_PG_MIN_CONNECT_TIMEOUT };
/* Probe requests that may wait for one ping; more are answered from the last result. */
enum { MAX_WAITERS = 64 };
enum { BODY_MAX = 256, MS_PER_S = 1000 };
/* Room for a one-line "cannot load libpq" reason. */
enum { PQ_ERROR_MAX = 512 };

struct wh_probes {
    wh_worker_t *worker;
    const char *health_path;
    const char *ready_path;
    uint64_t health_timeout_ms;

    bool has_db;
    char conninfo[WH_CONNINFO_MAX];
    uv_work_t work;
    bool in_flight;
    wh_pg_status_t work_status; /* written by the pool thread, read after it is done */
    bool have_result;
    wh_pg_status_t status;
    uint64_t checked_ms;
    wh_exchange_t *waiters[MAX_WAITERS];
    size_t waiter_count;
};

static bool path_is(const wh_request_t *req, const char *path)
{
    return path != NULL && req->path.len == strlen(path) &&
           memcmp(req->path.ptr, path, req->path.len) == 0;
}

/* Queues a whole JSON answer on a local exchange. */
static void respond(wh_exchange_t *ex, int code, const char *body)
{
    static const wh_header_t headers[] = {
        {{"Content-Type", 12}, {"application/json", 16}},
        {{"Cache-Control", 13}, {"no-store", 8}},
    };
    const char *status = code == 200 ? "200 OK" : "503 Service Unavailable";
    size_t len = strlen(body);
    if (wh_exchange_start(ex, status, strlen(status), headers, sizeof(headers) / sizeof(headers[0]),
                          (int64_t)len) != WH_OK ||
        wh_exchange_write(ex, body, len) < 0) {
        wh_exchange_finish_local(ex, WH_FINISH_ERROR);
        return;
    }
    wh_exchange_finish_local(ex, WH_FINISH_OK);
}

/* The oldest request a runner holds (not a local one), in monotonic ms; 0 when none. */
static uint64_t oldest_in_app(const wh_worker_t *w)
{
    uint64_t oldest = 0;
    for (const wh_conn_t *c = w->conns; c != NULL; c = c->next) {
        if (c->state == WH_CONN_APP && c->ex != NULL && !c->ex->local &&
            !(c->ex_state & WH_EX_FINISHED) && (oldest == 0 || c->submitted_ms < oldest))
            oldest = c->submitted_ms;
    }
    return oldest;
}

static void answer_liveness(wh_probes_t *p, wh_exchange_t *ex)
{
    uint64_t oldest = oldest_in_app(p->worker);
    uint64_t now = wh_monotonic_ms();
    if (p->health_timeout_ms > 0 && oldest != 0 && now - oldest > p->health_timeout_ms) {
        char body[BODY_MAX];
        snprintf(body, sizeof(body),
                 "{\"status\":\"stalled\",\"reason\":\"a request has been in the app for %.1f s "
                 "(--health-timeout %.1f)\"}",
                 (double)(now - oldest) / MS_PER_S, (double)p->health_timeout_ms / MS_PER_S);
        respond(ex, 503, body);
        return;
    }
    respond(ex, 200, "{\"status\":\"ok\"}");
}

/* Readiness from the last ping result (and the worker's state). */
static void answer_readiness(wh_probes_t *p, wh_exchange_t *ex)
{
    wh_worker_t *w = p->worker;
    if (w->draining || w->stopping) {
        respond(ex, 503, "{\"status\":\"draining\",\"reason\":\"shutting down\"}");
        return;
    }
    if (!p->has_db) {
        respond(ex, 200, "{\"status\":\"ready\"}");
        return;
    }
    if (!p->have_result) {
        respond(ex, 503, "{\"status\":\"unavailable\",\"reason\":\"database: not checked yet\"}");
        return;
    }
    if (p->status == WH_PG_UP) {
        respond(ex, 200, "{\"status\":\"ready\",\"database\":\"ok\"}");
        return;
    }
    char body[BODY_MAX];
    snprintf(body, sizeof(body), "{\"status\":\"unavailable\",\"reason\":\"database: %s\"}",
             wh_pg_status_text(p->status));
    respond(ex, 503, body);
}

/* A waiting probe's answer is ready: send it if its client is still there. */
static void answer_waiter(wh_probes_t *p, wh_exchange_t *ex)
{
    wh_conn_t *owner = ex->owner;
    if (owner != NULL) {
        answer_readiness(p, ex);
        wh_conn_on_output(owner);
    }
    wh_exchange_unref(ex);
}

static void ping_work(uv_work_t *req)
{
    wh_probes_t *p = req->data;
    p->work_status = wh_pg_ping(p->conninfo, PING_TIMEOUT_S);
}

static void ping_done(uv_work_t *req, int status)
{
    wh_probes_t *p = req->data;
    p->in_flight = false;
    if (status == 0) {
        if (p->have_result && p->status != p->work_status)
            wh_log(WH_LOG_INFO, "Readiness: database %s", wh_pg_status_text(p->work_status));
        p->status = p->work_status;
        p->have_result = true;
        p->checked_ms = wh_monotonic_ms();
    }
    size_t count = p->waiter_count;
    p->waiter_count = 0;
    for (size_t i = 0; i < count; i++)
        answer_waiter(p, p->waiters[i]);
}

static int start_ping(wh_probes_t *p)
{
    if (p->in_flight)
        return 0;
    p->work.data = p;
    int rc = uv_queue_work(&p->worker->loop, &p->work, ping_work, ping_done);
    if (rc != 0) {
        wh_log(WH_LOG_ERROR, "readiness: cannot queue the database check: %s", uv_strerror(rc));
        return -1;
    }
    p->in_flight = true;
    return 0;
}

static void handle_readiness(wh_probes_t *p, wh_exchange_t *ex)
{
    bool fresh = p->have_result && wh_monotonic_ms() - p->checked_ms < WH_PROBES_CACHE_MS;
    if (!p->has_db || fresh || p->worker->draining || p->worker->stopping ||
        p->waiter_count == MAX_WAITERS || start_ping(p) != 0) {
        answer_readiness(p, ex);
        return;
    }
    /* Answered when the ping is done (ping_done); hold a reference until then. */
    atomic_fetch_add(&ex->refs, 1);
    p->waiters[p->waiter_count++] = ex;
}

static bool handle(void *ctx, wh_exchange_t *ex)
{
    wh_probes_t *p = ctx;
    if (path_is(&ex->req, p->health_path)) {
        ex->local = true;
        answer_liveness(p, ex);
        return true;
    }
    if (path_is(&ex->req, p->ready_path)) {
        ex->local = true;
        handle_readiness(p, ex);
        return true;
    }
    return false;
}

wh_probes_t *wh_probes_install(wh_worker_t *w, char *const *envp, bool *failed)
{
    const wh_config_t *cfg = w->cfg;
    *failed = false;
    if ((cfg->health_path == NULL || cfg->health_path[0] == '\0') &&
        (cfg->ready_path == NULL || cfg->ready_path[0] == '\0'))
        return NULL;
    wh_probes_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        wh_log(WH_LOG_CRITICAL, "cannot set up the probes: out of memory");
        *failed = true;
        return NULL;
    }
    p->worker = w;
    p->health_path = cfg->health_path;
    p->ready_path = cfg->ready_path;
    p->health_timeout_ms = (uint64_t)(cfg->health_timeout * MS_PER_S);
    wh_db_kind_t kind = wh_pgconf_from_env(envp, p->conninfo, sizeof(p->conninfo));
    p->has_db = kind == WH_DB_POSTGRES;
    if (kind == WH_DB_INVALID)
        wh_log(WH_LOG_WARNING, "readiness: DATABASE_URL is too long; not checking the database");
    char pq_err[PQ_ERROR_MAX];
    if (p->has_db && p->ready_path != NULL && wh_pq(pq_err, sizeof(pq_err)) == NULL) {
        /* Ready without the database check would be a lie: refuse to start instead. */
        wh_log(WH_LOG_CRITICAL, "readiness: %s", pq_err);
        free(p);
        *failed = true;
        return NULL;
    }
    if (wh_worker_add_local_handler(w, handle, p) != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot register the probes: too many local handlers");
        free(p);
        *failed = true;
        return NULL;
    }
    /* Warm the cache so the first probe after start-up need not wait. */
    if (p->has_db && p->ready_path != NULL && start_ping(p) != 0)
        wh_log(WH_LOG_WARNING, "readiness: the first database check could not start");
    return p;
}

void wh_probes_free(wh_probes_t *p)
{
    free(p);
}
