#include "server/http/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char DEFAULT_PORT[] = "8000";
static const char UNIX_PREFIX[] = "unix:";
static const char FD_PREFIX[] = "fd://";

static int fail(char *err, size_t size, const char *spec, const char *what)
{
    snprintf(err, size, "cannot listen on %s: %s", spec, what);
    return -1;
}

static const char *advice_for(int e)
{
    switch (e) {
    case EADDRINUSE:
        return "address already in use (another server is running there: stop it or choose "
               "another --bind)";
    case EACCES:
        return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a "
               "port such as 8000)";
    case EADDRNOTAVAIL:
        return "address not available on this machine (check the host part of --bind)";
    default:
        return strerror(e);
    }
}

/* Refuses to replace a live Unix socket; removes a stale one left by a crashed server. */
static int clear_stale_unix_socket(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(st.st_mode)) {
        errno = EEXIST;
        return -1;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    int live = connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(probe);
    if (live) {
        errno = EADDRINUSE;
        return -1;
    }
    return unlink(path);
}

static int listen_unix(const char *spec, const char *path, int backlog, wh_listener_t *out,
                       char *err, size_t err_size)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (*path == '\0' || strlen(path) >= sizeof(addr.sun_path) || strlen(path) >= WH_ADDR_TEXT_MAX)
        return fail(err, err_size, spec, "socket path empty or too long");
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (clear_stale_unix_socket(path) != 0)
        return fail(err, err_size, spec,
                    errno == EEXIST ? "a file that is not a socket is there" : advice_for(errno));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(err, err_size, spec, strerror(errno));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        return fail(err, err_size, spec, advice_for(e));
    }
    out->fd = fd;
    out->is_unix = true;
    out->owner = true;
    snprintf(out->host, sizeof(out->host), "%s", path);
    out->port[0] = '\0';
    snprintf(out->display, sizeof(out->display), "unix:%s", path);
    return 0;
}

/* Splits "HOST:PORT", "[V6]:PORT" or "HOST" into host and port (port defaults to 8000). */
static int split_host_port(const char *spec, char *host, size_t host_size, char *port,
                           size_t port_size)
{
    const char *colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return -1;
        if ((size_t)(close - spec - 1) >= host_size)
            return -1;
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(spec, ':');
        size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
        if (len >= host_size || (colon && strchr(spec, ':') != colon))
            return -1;
        memcpy(host, spec, len);
        host[len] = '\0';
    }
    const char *p = colon ? colon + 1 : DEFAULT_PORT;
    if (*p == '\0' || strlen(p) >= port_size || strspn(p, "0123456789") != strlen(p))
        return -1;
    snprintf(port, port_size, "%s", p);
    return 0;
}

/* Takes over an inherited listening socket (fd://N, systemd). */
static int adopt_fd(const char *spec, int fd, wh_listener_t *out, char *err, size_t err_size)
{
    int listening = 0;
    socklen_t optlen = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening)
        return fail(err, err_size, spec, "not a listening socket (was it passed open?)");
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return fail(err, err_size, spec, strerror(errno));
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return fail(err, err_size, spec, strerror(errno));
    out->fd = fd;
    out->owner = false; /* whoever made it removes its file */
    out->adopted = true;
    if (ss.ss_family == AF_UNIX) {
        out->is_unix = true;
        snprintf(out->host, sizeof(out->host), "%s", ((struct sockaddr_un *)&ss)->sun_path);
        snprintf(out->display, sizeof(out->display), "unix:%s", out->host);
        return 0;
    }
    if (getnameinfo((struct sockaddr *)&ss, len, out->host, sizeof(out->host), out->port,
                    sizeof(out->port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return fail(err, err_size, spec, "cannot read its address");
    bool v6 = ss.ss_family == AF_INET6;
    snprintf(out->display, sizeof(out->display), "http://%s%s%s:%s", v6 ? "[" : "", out->host,
             v6 ? "]" : "", out->port);
    return 0;
}

/* systemd socket activation: LISTEN_FDS sockets from fd 3, when LISTEN_PID is us. */
enum { SYSTEMD_FIRST_FD = 3 };

int wh_listen_systemd(wh_listener_t *out, size_t max, char *err, size_t err_size)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end;
    long n = strtol(fds, &end, 10);
    if (*end != '\0' || n <= 0)
        return 0;
    if ((size_t)n > max) {
        snprintf(err, err_size, "systemd passed %ld sockets; at most %zu are supported", n, max);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        if (adopt_fd("a systemd socket", SYSTEMD_FIRST_FD + (int)i, &out[i], err, err_size))
            return -1;
    }
    unsetenv("LISTEN_PID"); /* not for the app's own children */
    unsetenv("LISTEN_FDS");
    return (int)n;
}

int wh_listen(const char *spec, int backlog, wh_listener_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    if (strncmp(spec, FD_PREFIX, sizeof(FD_PREFIX) - 1) == 0) {
        char *end;
        long fd = strtol(spec + sizeof(FD_PREFIX) - 1, &end, 10);
        if (*end != '\0' || fd < 0 || fd > INT32_MAX)
            return fail(err, err_size, spec, "expected fd://NUMBER");
        return adopt_fd(spec, (int)fd, out, err, err_size);
    }
    if (strncmp(spec, UNIX_PREFIX, sizeof(UNIX_PREFIX) - 1) == 0)
        return listen_unix(spec, spec + sizeof(UNIX_PREFIX) - 1, backlog, out, err, err_size);
    char host[WH_ADDR_TEXT_MAX], port[WH_PORT_TEXT_MAX];
    if (split_host_port(spec, host, sizeof(host), port, sizeof(port)) != 0 ||
        strtol(port, NULL, 10) > UINT16_MAX)
        return fail(err, err_size, spec, "expected HOST:PORT, [IPv6]:PORT or unix:PATH");
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int gai = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (gai != 0)
        return fail(err, err_size, spec, gai_strerror(gai));
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        /* SO_REUSEADDR: restart at once while old connections sit in TIME_WAIT. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            (ai->ai_family != AF_INET6 ||
             setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0) &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return fail(err, err_size, spec, advice_for(e));
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, out->host, sizeof(out->host), out->port,
                    sizeof(out->port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        e = errno;
        close(fd);
        return fail(err, err_size, spec, strerror(e));
    }
    out->fd = fd;
    bool v6 = ss.ss_family == AF_INET6;
    snprintf(out->display, sizeof(out->display), "http://%s%s%s:%s", v6 ? "[" : "", out->host,
             v6 ? "]" : "", out->port);
    return 0;
}

/* A TCP socket filter sees the segment from its TCP header on: byte 13 holds the flags. */
enum { TCP_FLAGS_OFFSET = 13, TCP_FLAG_SYN = 0x02, TCP_FLAG_ACK = 0x10 };

int wh_listener_refuse_new(const wh_listener_t *l)
{
    if (l->fd < 0 || l->is_unix || l->adopted)
        return 0;
    /* Drop a SYN without ACK (a new connection attempt); keep everything else, such as the
     * last ACK of a handshake already under way, which still completes into the queue. */
    static struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, TCP_FLAGS_OFFSET),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TCP_FLAG_ACK, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, TCP_FLAG_SYN, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, UINT32_MAX), /* keep the whole segment */
        BPF_STMT(BPF_RET | BPF_K, 0),          /* drop */
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    return setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

void wh_listener_close(wh_listener_t *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    if (l->is_unix && l->owner)
        unlink(l->host);
    l->owner = false;
}
