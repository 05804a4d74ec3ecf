/* Prometheus metrics (--metrics-bind): workers count requests into their scoreboard slot
 * (server/core/scoreboard.h) on the loop thread, with plain relaxed stores (each slot has a single
 * writer); the master serves GET /metrics on its own listener, summing every slot and the
 * totals of workers that have exited, so the numbers survive worker restarts and are there
 * while every worker is busy or stuck.
 *
 * The master's server is a small non-blocking HTTP/1.0 responder driven by the master's poll
 * loop (no threads, no event loop): one request per connection, at most a few connections at
 * once, each with a deadline. */
#ifndef WSGIHOST_METRICS_H
#define WSGIHOST_METRICS_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/core/buf.h"
#include "server/http/listen.h"
#include "server/http/request.h"
#include "server/core/scoreboard.h"

typedef enum {
    WH_HANDLER_APP = 0,    /* the WSGI app */
    WH_HANDLER_STATIC = 1, /* static files, answered by the loop */
    WH_HANDLER_PROBE = 2,  /* --health-path / --ready-path */
    WH_HANDLER_ERROR = 3,  /* the server's own answers to bad requests (400, 408, 413, ...) */
} wh_handler_t;

/* Index of a method for the requests counter (WH_STAT_METHODS - 1 for the others). */
int wh_stat_method_index(wh_str_t method);

/* Counts one answered request. */
void wh_stats_record(wh_slot_stats_t *s, wh_handler_t handler, wh_str_t method, int status,
                     uint64_t duration_us);

/* Master: a worker in `slot` has exited; its counters go to the retired totals and the slot's
 * are zeroed for the next worker. */
void wh_metrics_fold_slot(wh_scoreboard_t *sb, int slot);

/* Appends the Prometheus text exposition (format 0.0.4) of everything in the scoreboard. */
int wh_metrics_render(const wh_scoreboard_t *sb, wh_buf_t *out);

typedef struct wh_metrics_server wh_metrics_server_t;

/* Serves /metrics on a bound listener (the server takes it over). NULL on out of memory. */
wh_metrics_server_t *wh_metrics_server_new(wh_listener_t *listener, wh_scoreboard_t *sb);
/* Fills up to `max` pollfds to wait on; returns how many. */
int wh_metrics_server_pollfds(wh_metrics_server_t *m, struct pollfd *fds, int max);
/* After poll: handles what is ready (fds as filled, with revents) and expired deadlines. */
void wh_metrics_server_handle(wh_metrics_server_t *m, const struct pollfd *fds, int count);
/* In a forked worker: closes the inherited descriptors without touching the connections. */
void wh_metrics_server_forget(wh_metrics_server_t *m);
/* Closes everything (the master is stopping). */
void wh_metrics_server_free(wh_metrics_server_t *m);

#endif
