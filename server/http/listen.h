/* Listening sockets: parsing --bind addresses and binding them (once, before any worker runs). */
#ifndef WSGIHOST_LISTEN_H
#define WSGIHOST_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

enum { WH_ADDR_TEXT_MAX = 128, WH_PORT_TEXT_MAX = 8 };

typedef struct {
    int fd;
    bool is_unix;
    bool owner;   /* this process made it: closing also removes a Unix socket's file */
    bool adopted; /* inherited (fd://, systemd): its maker keeps it after we exit */
    char host[WH_ADDR_TEXT_MAX];         /* numeric address, or the socket path */
    char port[WH_PORT_TEXT_MAX];         /* the bound port ("" for Unix sockets) */
    char display[WH_ADDR_TEXT_MAX + 32]; /* "http://127.0.0.1:8000" or "unix:/path" */
} wh_listener_t;

/* Binds and listens on `spec` ("HOST:PORT", "[V6]:PORT", "HOST" for port 8000, "unix:PATH"),
 * or adopts an inherited listening socket ("fd://N").
 * Sockets are non-blocking and close-on-exec with SO_REUSEADDR. On error writes one line saying
 * what went wrong and what to do into `err` and returns -1. */
int wh_listen(const char *spec, int backlog, wh_listener_t *out, char *err, size_t err_size);

/* Adopts the sockets systemd passed (LISTEN_FDS, when LISTEN_PID is this process). Returns
 * how many (0 when none), or -1 with `err` set. */
int wh_listen_systemd(wh_listener_t *out, size_t max, char *err, size_t err_size);

/* Before the server's last close of a TCP listener: new connection attempts (SYNs) are dropped
 * from now on, so none can complete into the accept queue between the final accept and the
 * close (the close would reset it, after the client thought it connected). Their clients retry
 * the SYN and are refused once the socket is gone. Adopted sockets are left alone (they live
 * on); 0, or -1 with errno. Linux allows the filter on a TCP socket only with CAP_NET_ADMIN
 * (EPERM without: a container's non-root user, or Docker's root). No unprivileged way drops a
 * SYN and keeps the handshake's last ACK: a backlog of 0 drops both once one connection waits,
 * and those dropped ACKs are reset at the close too (measured no better). So there a client
 * connecting at the instant of the close may be reset, as with any server that closes. */
int wh_listener_refuse_new(const wh_listener_t *l);

void wh_listener_close(wh_listener_t *l);

#endif
