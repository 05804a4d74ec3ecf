/* Operations features on the request path: the PROXY protocol header, trusted proxies (scheme
 * and client address), request IDs, the access log line and the metrics counters. They watch
 * the HTTP core through its observer interface (server/http/observer.h): the core calls them,
 * never names them. Everything is decided from bytes on the loop thread; nothing here takes the
 * GIL or blocks.
 *
 * The settings are checked when the configuration is loaded (wh_ops_check_config, registered
 * with wh_config_add_check) and compiled once in the master (wh_ops_init, before binding); each
 * worker then calls wh_ops_worker_start after the fork to seed its request IDs and find its
 * metrics slot, and observes its loop with wh_ops_observer. */
#ifndef WSGIHOST_OPS_H
#define WSGIHOST_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/core/config.h"
#include "server/core/scoreboard.h"
#include "server/http/observer.h"
#include "server/ops/accesslog.h"
#include "server/ops/forwarded.h"
#include "server/ops/requestid.h"

typedef struct wh_ops {
    wh_accesslog_t *accesslog; /* NULL: no access log */
    /* The response headers the access log shows ({Name}o), NULL-terminated; NULL when none,
     * so requests keep no response headers (the default format has none). */
    const char *const *log_header_names;
    wh_cidr_list_t forwarded_allow;
    wh_scheme_headers_t scheme_headers; /* --secure-scheme-headers */
    wh_realip_header_t realip_header;
    wh_cidr_list_t realip_from;
    bool proxy_protocol;
    wh_cidr_list_t proxy_allow;
    bool request_id;
    bool metrics; /* --metrics-bind: count into the scoreboard */
    bool timing;  /* request durations are needed (access log or metrics) */
    const char *health_path, *ready_path;

    /* Per worker, after the fork. */
    wh_slot_stats_t *stats; /* NULL without --metrics-bind */
    wh_request_id_gen_t ids;
    wh_observer_t observer;
} wh_ops_t;

/* Checks the operations settings of a loaded configuration (trusted proxy lists, the real-IP
 * header, the access log format), so a mistake stops wsgihost before it starts. 0, or -1 with
 * a one-line reason in err. For wh_config_add_check. */
int wh_ops_check_config(const wh_config_t *cfg, char *err, size_t err_size);

/* Compiles the settings. 0, or -1 with a one-line reason in err. */
int wh_ops_init(wh_ops_t *ops, const wh_config_t *cfg, bool metrics, char *err, size_t err_size);
/* In the worker, after the fork; `slot` is its scoreboard slot (NULL: no scoreboard). */
void wh_ops_worker_start(wh_ops_t *ops, wh_slot_t *slot);
/* The observer to set on the worker (wh_worker_t.observer), after wh_ops_worker_start. */
const wh_observer_t *wh_ops_observer(wh_ops_t *ops);
void wh_ops_free(wh_ops_t *ops);

#endif
