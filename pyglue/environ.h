/* The WSGI environ: a template of per-process constants built once, copied per request and
 * completed from the request (interned keys, cached common values, header names converted in C). */
#ifndef WSGIHOST_PYGLUE_ENVIRON_H
#define WSGIHOST_PYGLUE_ENVIRON_H

#include <stdbool.h>

#include "pyglue/compat.h"
#include "server/http/request.h"

/* Builds the template and the key caches (after errors and filewrapper are initialised).
 * Reads $SCRIPT_NAME like gunicorn. 0, or -1 with an exception set. */
int wh_environ_init(bool multithread, bool multiprocess);
void wh_environ_fini(void);

/* A new environ dict for req with `input` as wsgi.input; NULL with an exception set. */
PyObject *wh_environ_build(const wh_request_t *req, PyObject *input);

#endif
