/* wsgi.file_wrapper: the iterable PEP 3333 describes (read blocks until b'', close() closes the
 * file). Iterating is only the fallback: wsgi.c sends regular files by sendfile. */
#include "pyglue/filewrapper.h"

/* PEP 3333's customary default block size. */
enum { DEFAULT_BLOCK_SIZE = 8192 };

typedef struct {
    PyObject ob_base;
    PyObject *filelike;
    Py_ssize_t block_size;
} filewrapper_t;

static PyObject *filewrapper_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"filelike", "block_size", NULL};
    PyObject *filelike;
    Py_ssize_t block_size = DEFAULT_BLOCK_SIZE;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:file_wrapper", kwlist, &filelike,
                                     &block_size))
        return NULL;
    if (block_size <= 0) {
        PyErr_SetString(PyExc_ValueError, "block_size must be positive");
        return NULL;
    }
    filewrapper_t *self = (filewrapper_t *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->filelike = Py_NewRef(filelike);
    self->block_size = block_size;
    return (PyObject *)self;
}

static int filewrapper_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(((filewrapper_t *)op)->filelike);
    return 0;
}

static int filewrapper_clear(PyObject *op)
{
    Py_CLEAR(((filewrapper_t *)op)->filelike);
    return 0;
}

static void filewrapper_dealloc(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    (void)filewrapper_clear(op);
    Py_TYPE(op)->tp_free(op);
}

static PyObject *filewrapper_iternext(PyObject *op)
{
    filewrapper_t *self = (filewrapper_t *)op;
    if (self->filelike == NULL)
        return NULL;
    PyObject *data = PyObject_CallMethod(self->filelike, "read", "n", self->block_size);
    if (data == NULL)
        return NULL;
    if (PyObject_Length(data) == 0) { /* b'' (or an error from len(), which stays set) */
        Py_DECREF(data);
        return NULL;
    }
    return data;
}

static PyObject *filewrapper_close(PyObject *op, PyObject *unused)
{
    (void)unused;
    filewrapper_t *self = (filewrapper_t *)op;
    if (self->filelike == NULL)
        Py_RETURN_NONE;
    PyObject *close = NULL;
    if (wh_py_getattr_optional(self->filelike, "close", &close) < 0)
        return NULL;
    if (close == NULL)
        Py_RETURN_NONE;
    PyObject *res = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    return res;
}

static PyMethodDef filewrapper_methods[] = {
    {"close", filewrapper_close, METH_NOARGS, "Close the wrapped file-like object."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject filewrapper_type = {
    /* clang-format off */
    PyVarObject_HEAD_INIT(NULL, 0)
        /* clang-format on */
        .tp_name = "wsgihost.FileWrapper",
    .tp_basicsize = sizeof(filewrapper_t),
    .tp_dealloc = filewrapper_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "wsgi.file_wrapper(filelike, block_size=8192)",
    .tp_traverse = filewrapper_traverse,
    .tp_clear = filewrapper_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = filewrapper_iternext,
    .tp_methods = filewrapper_methods,
    .tp_new = filewrapper_new,
};

int wh_filewrapper_init(void)
{
    return PyType_Ready(&filewrapper_type);
}

PyObject *wh_filewrapper_type(void)
{
    return (PyObject *)&filewrapper_type;
}

PyObject *wh_filewrapper_filelike(PyObject *obj)
{
    return Py_IS_TYPE(obj, &filewrapper_type) ? ((filewrapper_t *)obj)->filelike : NULL;
}
