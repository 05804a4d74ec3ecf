#include "server/container/healthcheck.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/container/httpurl.h"
#include "server/core/util.h"

enum { REQUEST_MAX = 4096, MS_PER_S = 1000 };

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - (long long)wh_monotonic_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {fd, events, 0};
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Connects to one address before the deadline: the socket, or -1 with errno set. */
static int connect_one(const struct addrinfo *ai, long long deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno == EINPROGRESS) {
        int ready = wait_fd(fd, POLLOUT, deadline);
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
            return fd;
        errno = ready == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

static int connect_url(const wh_url_t *url, long long deadline, char *err, size_t err_size)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(url->host, url->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_size, "cannot resolve %s: %s", url->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, deadline);
    if (fd < 0)
        snprintf(err, err_size, "cannot connect: %s", strerror(errno));
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *data, size_t len, long long deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, deadline) != 1)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads until the status line is complete; its text (without CRLF) goes to line. */
static int read_status_line(int fd, char *line, size_t cap, long long deadline, char *err,
                            size_t err_size)
{
    size_t used = 0;
    for (;;) {
        char *eol = memchr(line, '\n', used);
        if (eol != NULL) {
            *eol = '\0';
            if (eol > line && eol[-1] == '\r')
                eol[-1] = '\0';
            return 0;
        }
        if (used + 1 >= cap) {
            snprintf(err, err_size, "status line too long");
            return -1;
        }
        ssize_t n = recv(fd, line + used, cap - 1 - used, 0);
        if (n > 0) {
            used += (size_t)n;
            continue;
        }
        if (n == 0) {
            snprintf(err, err_size, "connection closed before a response");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, err_size, "receive failed: %s", strerror(errno));
            return -1;
        }
        if (wait_fd(fd, POLLIN, deadline) != 1) {
            snprintf(err, err_size, "timed out waiting for the response");
            return -1;
        }
    }
}

int wh_healthcheck_fetch(const wh_url_t *url, double timeout_s, char *line, size_t cap, char *err,
                         size_t err_size)
{
    long long deadline = (long long)wh_monotonic_ms() + (long long)(timeout_s * MS_PER_S);
    int fd = connect_url(url, deadline, err, err_size);
    if (fd < 0)
        return -1;
    char request[REQUEST_MAX];
    int n = snprintf(request, sizeof(request),
                     "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: wsgihost-healthcheck\r\n"
                     "Connection: close\r\n\r\n",
                     url->path, url->ipv6 ? "[" : "", url->host, url->ipv6 ? "]" : "", url->port);
    int code = -1;
    if (n < 0 || (size_t)n >= sizeof(request)) {
        snprintf(err, err_size, "request too long");
    } else if (send_all(fd, request, (size_t)n, deadline) != 0) {
        snprintf(err, err_size, "cannot send the request: %s",
                 errno ? strerror(errno) : "timed out");
    } else if (read_status_line(fd, line, cap, deadline, err, err_size) == 0) {
        int minor = 0;
        if (sscanf(line, "HTTP/1.%d %3d", &minor, &code) != 2 || code < 100 || code > 999) {
            snprintf(err, err_size, "not an HTTP response: %.80s", line);
            code = -1;
        }
    }
    close(fd);
    return code;
}
