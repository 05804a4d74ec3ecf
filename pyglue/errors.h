/* wsgi.errors (a text stream into the error log) and the reporting of Python exceptions. */
#ifndef WSGIHOST_PYGLUE_ERRORS_H
#define WSGIHOST_PYGLUE_ERRORS_H

#include "pyglue/compat.h"

/* Readies the wsgi.errors type and the traceback formatter. 0, or -1 with an exception set. */
int wh_errors_init(void);
void wh_errors_fini(void);

/* A new wsgi.errors stream (one is shared by every request). */
PyObject *wh_errors_new(void);

/* Logs one error line (printf format) followed by the pending Python exception's traceback to
 * the error log, and clears the exception. */
void wh_errors_log_exception(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the pending exception's traceback to stderr and clears it (start-up errors, before
 * the error log is the place to look). */
void wh_errors_print_exception(void);

#endif
