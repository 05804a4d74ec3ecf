/* Opens a file beneath a root directory so that nothing outside the root can be reached: not
 * by "..", not by absolute paths, not by symlinks (absolute ones, or relative ones climbing out);
 * symlinks that stay inside the root are followed.
 *
 * Uses openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS where the kernel has it (5.6+).
 * Elsewhere, or when forced (tests run both), it walks the path one component at a time with
 * O_NOFOLLOW from descriptors it holds, expanding symlinks itself and refusing any that climb
 * above the root: the same rules, without a window for a rename race to widen them. */
#ifndef WSGIHOST_STATIC_OPEN_H
#define WSGIHOST_STATIC_OPEN_H

#include <stdbool.h>

/* The environment variable that forces the fallback ("1"). */
#define WH_STATIC_NO_OPENAT2_ENV "WSGIHOST_STATIC_NO_OPENAT2"

/* Decides once per process whether openat2 is used (the kernel has it and the environment
 * does not force the fallback). Call before serving; it is also called lazily. */
void wh_static_open_init(void);

/* True when openat2 is in use (for the start-up log). */
bool wh_static_open_uses_openat2(void);

/* Opens `rel` (relative, no leading '/') beneath `root_fd` read-only, non-blocking and
 * close-on-exec. Returns the descriptor, or -1 with errno set (EXDEV or ELOOP for an escape). */
int wh_static_open(int root_fd, const char *rel);

#endif
