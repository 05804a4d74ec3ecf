/* `wsgihost healthcheck [--url URL] [--timeout SECONDS]`: a tiny HTTP/1.1 client for Docker's
 * HEALTHCHECK in images without curl or a shell. GETs the URL (default
 * http://127.0.0.1:${PORT:-8000}${WSGIHOST_HEALTH_PATH:-/}), prints one line, and exits 0 when
 * the status is 2xx, 1 otherwise (2 for bad usage). */
#ifndef WSGIHOST_HEALTHCHECK_H
#define WSGIHOST_HEALTHCHECK_H

/* The subcommand: argv[0] is "healthcheck". Returns the exit status. */
int wh_healthcheck_main(int argc, char **argv);

#endif
