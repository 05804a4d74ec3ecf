/* openloop: an open-loop HTTP/1.1 load generator for bench/run (Debian has no wrk2, vegeta or
 * k6). Requests are scheduled as a Poisson stream at a fixed rate, independent of the answers;
 * each goes out on an idle keep-alive connection, or a new one (up to --max-conns), or waits
 * in a queue. Latency is measured from the scheduled time, so a stalled server is charged for
 * every request it delays (no coordinated omission).
 *
 *   openloop PORT PATH RATE SECONDS [MAX_CONNS] [close]
 *
 * 127.0.0.1 only. Prints one JSON line: rate, sent, completed, achieved rate, non2xx, errors,
 * timeouts (unanswered 5 s after the end), unsent (still waiting for a connection then),
 * latency percentiles in ms: of every answer, and (ok_*, non2xx_*) of the 2xx answers and the
 * others apart, so an overloaded server's quick 503s do not hide how late its 200s were, and
 * ok_wire_* of the 2xx answers counted from the request's last byte written (what the server
 * alone controls: no wait for a free or new connection). Built by bench/run with `cc -O2`.
 * Responses need a Content-Length (or end with the connection). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { IDLE, CONNECTING, BUSY };

typedef struct {
    int fd, state;
    double sched;   /* scheduled time of the request in flight */
    double written; /* when its last byte was written (0: not yet) */
    size_t sent;    /* bytes of the request written */
    char buf[16384];
    size_t have;         /* bytes in buf */
    long long body_left; /* -1: head not complete; -2: read to EOF */
    int close_after, status;
    int reused;           /* it has answered a request before */
    int in_idle, in_free; /* listed on the idle or free stack (the entry may be stale) */
} conn_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int port, close_mode, max_conns;
static char request[1024];
static size_t request_len;
static conn_t *conns;
static int nconns, ep;
static double *lat, *lat_ok, *lat_bad, *lat_ok_wire;
static long long nok, nbad;
static long long nlat, sent, non2xx, errors, completed;
static double *queue;
static long long qhead, qtail;
/* Connections to reuse without scanning them all (thousands under overload): kept-alive ones
 * (idle) and closed slots (free). Entries are checked when taken: a listed connection may have
 * changed since. */
static conn_t **idle_stack, **free_stack;
static int nidle, nfree;

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void drop(conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = IDLE;
    if (!c->in_free) {
        c->in_free = 1;
        free_stack[nfree++] = c;
    }
}

static int open_conn(conn_t *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

static void try_write(conn_t *c)
{
    while (c->sent < request_len) {
        ssize_t n = write(c->fd, request + c->sent, request_len - c->sent);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            errors++;
            drop(c);
            return;
        }
        c->sent += (size_t)n;
    }
    if (c->sent == request_len && c->written == 0)
        c->written = now();
    struct epoll_event ev = {.events = EPOLLIN | (c->sent < request_len ? EPOLLOUT : 0),
                             .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Put the request scheduled at `sched` on connection c (idle, connected or not). */
static void start(conn_t *c, double sched)
{
    c->sched = sched;
    c->written = 0;
    c->sent = 0;
    c->have = 0;
    c->body_left = -1;
    c->close_after = close_mode;
    c->status = 0;
    sent++;
    if (c->fd < 0) {
        c->reused = 0;
        if (open_conn(c) < 0) {
            errors++;
            return;
        }
        return; /* written once connected */
    }
    c->state = BUSY;
    try_write(c);
}

static void dispatch(double sched)
{
    while (nidle > 0) {
        conn_t *c = idle_stack[--nidle];
        c->in_idle = 0;
        if (c->state == IDLE && c->fd >= 0) {
            start(c, sched);
            return;
        }
    }
    conn_t *spare = NULL;
    while (nfree > 0 && !spare) {
        conn_t *c = free_stack[--nfree];
        c->in_free = 0;
        if (c->state == IDLE && c->fd < 0)
            spare = c;
    }
    if (!spare && nconns < max_conns)
        spare = &conns[nconns++];
    if (spare) {
        spare->fd = -1;
        start(spare, sched);
        return;
    }
    queue[qtail++] = sched; /* every connection busy: it waits, and its wait counts */
}

static void finished(conn_t *c)
{
    double l = now() - c->sched;
    lat[nlat++] = l;
    completed++;
    if (c->status < 200 || c->status > 299) {
        non2xx++;
        lat_bad[nbad++] = l;
    } else {
        lat_ok_wire[nok] = c->written > 0 ? now() - c->written : l;
        lat_ok[nok++] = l;
    }
    if (c->close_after)
        drop(c);
    else {
        c->state = IDLE;
        c->reused = 1;
        if (!c->in_idle) {
            c->in_idle = 1;
            idle_stack[nidle++] = c;
        }
    }
    if (qhead < qtail) {
        if (c->fd < 0)
            c->fd = -1;
        start(c, queue[qhead++]);
    }
}

/* Parse what has arrived; returns 1 when the response is complete. */
static int parse(conn_t *c)
{
    if (c->body_left == -1) {
        char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
        if (!end)
            return 0;
        size_t head = (size_t)(end - c->buf) + 4;
        c->status = atoi(c->buf + 9);
        c->body_left = -2;
        for (char *p = c->buf; p < end;) {
            char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
            if (!eol)
                break;
            if (!strncasecmp(p, "content-length:", 15))
                c->body_left = atoll(p + 15);
            if (!strncasecmp(p, "connection:", 11) && strcasestr(p, "close") &&
                strcasestr(p, "close") < eol)
                c->close_after = 1;
            p = eol + 2;
        }
        if (!strncmp(c->buf, "HTTP/1.0", 8))
            c->close_after = 1;
        size_t rest = c->have - head;
        if (c->body_left >= 0) {
            c->body_left -= (long long)rest;
            c->have = 0;
        }
    } else if (c->body_left >= 0) {
        c->body_left -= (long long)c->have;
        c->have = 0;
    } else {
        c->have = 0;
    }
    return c->body_left >= 0 && c->body_left <= 0;
}

static void on_event(conn_t *c, uint32_t events)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            errors++;
            drop(c);
            return;
        }
        c->state = BUSY;
        try_write(c);
        return;
    }
    if ((events & EPOLLOUT) && c->state == BUSY && c->sent < request_len)
        try_write(c);
    if (c->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (c->state == BUSY && c->body_left == -2) {
                c->close_after = 1;
                finished(c);
            } else if (c->state == BUSY && c->reused && c->have == 0 && c->body_left == -1) {
                /* a kept-alive connection the server had closed (uWSGI's --http-socket closes
                 * without saying so): retry on a new one, as browsers do */
                double sched = c->sched;
                drop(c);
                sent--;
                start(c, sched);
            } else if (c->state == BUSY) {
                errors++;
                drop(c);
                if (qhead < qtail)
                    dispatch(queue[qhead++]);
            } else {
                drop(c); /* an idle keep-alive connection closed by the server */
            }
            return;
        }
        if (c->state != BUSY)
            continue; /* unexpected bytes on an idle connection */
        c->have += (size_t)n;
        if (parse(c)) {
            finished(c);
            return;
        }
        if (c->have == sizeof c->buf)
            c->have = 0; /* a huge head: keep reading, give up parsing */
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: openloop PORT PATH RATE SECONDS [MAX_CONNS] [close]\n");
        return 2;
    }
    port = atoi(argv[1]);
    const char *path = argv[2];
    double rate = atof(argv[3]), seconds = atof(argv[4]);
    max_conns = argc > 5 ? atoi(argv[5]) : 256;
    close_mode = argc > 6 && !strcmp(argv[6], "close");
    request_len =
        (size_t)snprintf(request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: openloop\r\n%s\r\n",
                         path, port, close_mode ? "Connection: close\r\n" : "");
    long long cap = (long long)(rate * seconds * 1.5) + 1000;
    lat = malloc(sizeof(double) * (size_t)cap);
    lat_ok = malloc(sizeof(double) * (size_t)cap);
    lat_bad = malloc(sizeof(double) * (size_t)cap);
    lat_ok_wire = malloc(sizeof(double) * (size_t)cap);
    queue = malloc(sizeof(double) * (size_t)cap);
    conns = calloc((size_t)max_conns, sizeof(conn_t));
    idle_stack = malloc(sizeof(conn_t *) * (size_t)max_conns);
    free_stack = malloc(sizeof(conn_t *) * (size_t)max_conns);
    for (int i = 0; i < max_conns; i++)
        conns[i].fd = -1;
    ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
    srand48((long)getpid() ^ (long)time(NULL));

    double t0 = now() + 0.01, end = t0 + seconds, next = t0;
    for (;;) {
        double t = now();
        while (next <= t && next < end && sent + (qtail - qhead) < cap - 1) {
            dispatch(next);
            next += -log(1.0 - drand48()) / rate;
        }
        int outstanding = qhead < qtail;
        for (int i = 0; i < nconns && !outstanding && t >= end; i++) /* only needed at the end */
            outstanding = conns[i].state != IDLE;
        if (t >= end && !outstanding)
            break;
        if (t >= end + 5.0)
            break;
        double wake = next < end ? next : (t < end ? end : end + 5.0);
        struct itimerspec its = {0};
        its.it_value.tv_sec = (time_t)wake;
        its.it_value.tv_nsec = (long)((wake - (double)(time_t)wake) * 1e9);
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) {
                uint64_t x;
                while (read(tfd, &x, sizeof x) > 0) {
                }
                continue;
            }
            on_event(evs[i].data.ptr, evs[i].events);
        }
    }
    double elapsed = now() - t0;
    long long timeouts = sent - completed - errors;
    if (timeouts < 0)
        timeouts = 0;
    qsort(lat, (size_t)nlat, sizeof(double), cmp);
    qsort(lat_ok, (size_t)nok, sizeof(double), cmp);
    qsort(lat_bad, (size_t)nbad, sizeof(double), cmp);
    qsort(lat_ok_wire, (size_t)nok, sizeof(double), cmp);
#define P(q) (nlat ? lat[(long long)((nlat - 1) * (q))] * 1000 : -1.0)
#define PA(a, n, q) ((n) ? (a)[(long long)(((n)-1) * (q))] * 1000 : -1.0)
    printf(
        "{\"rate\": %.1f, \"sent\": %lld, \"completed\": %lld, \"achieved\": %.1f, \"non2xx\": "
        "%lld, "
        "\"errors\": %lld, \"timeouts\": %lld, \"connections\": %d, \"p50\": %.3f, \"p90\": %.3f, "
        "\"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f, \"unsent\": %lld, \"ok_p50\": %.3f, "
        "\"ok_p99\": %.3f, \"ok_max\": %.3f, \"ok_wire_p50\": %.3f, \"ok_wire_p99\": %.3f, "
        "\"non2xx_p50\": %.3f, \"non2xx_p99\": %.3f, "
        "\"non2xx_max\": %.3f}\n",
        rate, sent, completed, completed / (elapsed < seconds ? seconds : elapsed), non2xx, errors,
        timeouts, nconns, P(0.5), P(0.9), P(0.99), P(0.999), nlat ? lat[nlat - 1] * 1000 : -1.0,
        qtail - qhead, PA(lat_ok, nok, 0.5), PA(lat_ok, nok, 0.99), PA(lat_ok, nok, 1.0),
        PA(lat_ok_wire, nok, 0.5), PA(lat_ok_wire, nok, 0.99), PA(lat_bad, nbad, 0.5),
        PA(lat_bad, nbad, 0.99), PA(lat_bad, nbad, 1.0));
    return 0;
}
