/* wsgi.file_wrapper(filelike, block_size=8192): iterates a file-like object in blocks. The
 * runner recognises its objects and sends files with a real descriptor by sendfile instead. */
#ifndef WSGIHOST_PYGLUE_FILEWRAPPER_H
#define WSGIHOST_PYGLUE_FILEWRAPPER_H

#include <stdbool.h>

#include "pyglue/compat.h"

int wh_filewrapper_init(void);

/* The wsgi.file_wrapper callable (the type; a borrowed reference). */
PyObject *wh_filewrapper_type(void);

/* The wrapped file-like object when `obj` is exactly a file wrapper (borrowed), else NULL. */
PyObject *wh_filewrapper_filelike(PyObject *obj);

#endif
