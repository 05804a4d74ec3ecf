/* A tiny HTTP/1.1 client for Docker's HEALTHCHECK in images without curl or a shell (the
 * `wsgihost healthcheck` subcommand, cmd/healthcheck.c): one GET, the status line back. */
#ifndef WSGIHOST_HEALTHCHECK_H
#define WSGIHOST_HEALTHCHECK_H

#include <stddef.h>

#include "server/container/httpurl.h"

/* GETs the URL within timeout_s seconds: the status code, with the status line in `line`, or
 * -1 with a reason in err (no connection, no answer in time, not HTTP). */
int wh_healthcheck_fetch(const wh_url_t *url, double timeout_s, char *line, size_t cap, char *err,
                         size_t err_size);

#endif
