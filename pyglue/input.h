/* wsgi.input: a read-only binary stream over a request body held in memory or spooled to a
 * file. The object only borrows the body: it is attached to a request for the length of one
 * exchange and detached before the exchange finishes, after which reads raise ValueError. */
#ifndef WSGIHOST_PYGLUE_INPUT_H
#define WSGIHOST_PYGLUE_INPUT_H

#include "pyglue/compat.h"
#include "server/http/request.h"

int wh_input_init(void);

/* A new, detached stream; NULL with an exception set. */
PyObject *wh_input_new(void);

/* Points the stream at req's body, from its start. */
void wh_input_attach(PyObject *input, const wh_request_t *req);

/* Forgets the body (call before the exchange finishes). */
void wh_input_detach(PyObject *input);

#endif
