/* The scoreboard: one slot per worker in memory shared between the master and its workers
 * (mmap'ed before the first fork). A worker's loop thread writes its own slot once a second;
 * the master only reads. The master uses it for readiness (after HUP), for the heartbeat
 * timeout and to name the request a stuck worker was running.
 *
 * Fields are written with relaxed atomics or as plain text guarded by a sequence number; a
 * torn read of the text only garbles a log line, never a decision. */
#ifndef WSGIHOST_SCOREBOARD_H
#define WSGIHOST_SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

enum { WH_SCOREBOARD_SLOTS = 256, WH_SCOREBOARD_REQUEST_TEXT = 160 };

typedef enum { WH_SLOT_FREE, WH_SLOT_BOOTING, WH_SLOT_READY, WH_SLOT_STOPPING } wh_slot_state_t;

typedef struct {
    _Atomic int state;
    _Atomic pid_t pid;
    _Atomic uint64_t heartbeat_ms; /* the loop ran at this monotonic time */
    _Atomic uint64_t busy_since_ms; /* oldest request still in the app (0: none) */
    _Atomic uint64_t requests;
    _Atomic uint32_t conns;  /* open connections, for spreading new ones evenly */
    _Atomic int accepting;   /* polling the listeners now */
    _Atomic int stuck;       /* set by the master when it retires the worker for a timeout:
                                its Python cannot serve, so it must not take queued
                                connections on its way out */
    char busy_request[WH_SCOREBOARD_REQUEST_TEXT]; /* "GET /path" of that request */
} wh_slot_t;

typedef struct {
    wh_slot_t slots[WH_SCOREBOARD_SLOTS];
} wh_scoreboard_t;

/* Maps a zeroed scoreboard shared with future children. NULL on failure. */
wh_scoreboard_t *wh_scoreboard_new(void);
void wh_scoreboard_free(wh_scoreboard_t *sb);

/* Monotonic milliseconds (CLOCK_MONOTONIC is the same clock in every process). */
uint64_t wh_monotonic_ms(void);

#endif
