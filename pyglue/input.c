/* wsgi.input over a request body in memory (plain slices) or spooled to an unlinked file
 * (pread at the object's own position, with a read-ahead block so readline() does not issue a
 * system call per line). The GIL is held across pread on purpose: detaching also happens under
 * the GIL, so a read racing the end of the exchange can never touch a closed (or reused)
 * descriptor; reading a just-spooled file from the page cache is a memory copy anyway. */
#include "pyglue/input.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Read-ahead block for readline() over a spooled body. */
enum { READAHEAD_SIZE = 64 * 1024 };

typedef struct {
    PyObject ob_base;
    bool attached;
    const char *mem; /* the body in memory, or NULL when spooled */
    int fd;          /* the spooled body, or -1 */
    uint64_t len;
    uint64_t pos;
    char *cache; /* read-ahead: bytes [cache_start, cache_start + cache_len) of the file */
    uint64_t cache_start;
    size_t cache_len;
} input_t;

static int check_attached(input_t *self)
{
    if (self->attached)
        return 0;
    PyErr_SetString(PyExc_ValueError, "I/O operation on a finished request");
    return -1;
}

/* The optional size argument of read/readline/readlines: absent or None mean -1. */
static int parse_size(PyObject *const *args, Py_ssize_t nargs, const char *name, Py_ssize_t *out)
{
    *out = -1;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs);
        return -1;
    }
    if (nargs == 0 || args[0] == Py_None)
        return 0;
    Py_ssize_t v = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

/* How many bytes a read limited to `limit` (< 0: none) may take from the current position. */
static Py_ssize_t readable_bytes(const input_t *self, Py_ssize_t limit)
{
    uint64_t n = self->len - self->pos;
    if (limit >= 0 && (uint64_t)limit < n)
        n = (uint64_t)limit;
    if (n > (uint64_t)PY_SSIZE_T_MAX)
        n = (uint64_t)PY_SSIZE_T_MAX;
    return (Py_ssize_t)n;
}

/* Reads exactly n bytes at off; a file shorter than the request said is an error. */
static int pread_exact(int fd, char *dst, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t got = pread(fd, dst, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        if (got == 0) {
            PyErr_SetString(PyExc_OSError, "request body file is shorter than its length");
            return -1;
        }
        dst += got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

static bool cache_holds(const input_t *self, uint64_t pos)
{
    return self->cache_len > 0 && pos >= self->cache_start &&
           pos < self->cache_start + self->cache_len;
}

/* Makes the read-ahead block start at the current position. */
static int fill_cache(input_t *self)
{
    if (self->cache == NULL) {
        self->cache = PyMem_Malloc(READAHEAD_SIZE);
        if (self->cache == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    uint64_t left = self->len - self->pos;
    size_t n = left < READAHEAD_SIZE ? (size_t)left : READAHEAD_SIZE;
    self->cache_len = 0;
    if (pread_exact(self->fd, self->cache, n, self->pos) < 0)
        return -1;
    self->cache_start = self->pos;
    self->cache_len = n;
    return 0;
}

static PyObject *read_bytes(input_t *self, Py_ssize_t n)
{
    if (self->mem != NULL) {
        PyObject *out = PyBytes_FromStringAndSize(self->mem + self->pos, n);
        if (out != NULL)
            self->pos += (uint64_t)n;
        return out;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL)
        return NULL;
    char *dst = PyBytes_AS_STRING(out);
    size_t done = 0;
    if (cache_holds(self, self->pos)) {
        size_t in_cache = (size_t)(self->cache_start + self->cache_len - self->pos);
        done = in_cache < (size_t)n ? in_cache : (size_t)n;
        memcpy(dst, self->cache + (self->pos - self->cache_start), done);
    }
    if (done < (size_t)n &&
        pread_exact(self->fd, dst + done, (size_t)n - done, self->pos + done) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    self->pos += (uint64_t)n;
    return out;
}

/* One line of at most n bytes from a spooled body, through the read-ahead block. */
static PyObject *readline_spooled(input_t *self, Py_ssize_t n)
{
    char *acc = NULL; /* only used when a line spans read-ahead blocks */
    size_t got = 0;
    PyObject *out = NULL;
    while (got < (size_t)n) {
        if (!cache_holds(self, self->pos) && fill_cache(self) < 0)
            goto done;
        const char *chunk = self->cache + (self->pos - self->cache_start);
        size_t avail = (size_t)(self->cache_start + self->cache_len - self->pos);
        if (avail > (size_t)n - got)
            avail = (size_t)n - got;
        const char *nl = memchr(chunk, '\n', avail);
        size_t take = nl != NULL ? (size_t)(nl - chunk) + 1 : avail;
        if (acc == NULL && (nl != NULL || take == (size_t)n)) {
            out = PyBytes_FromStringAndSize(chunk, (Py_ssize_t)take); /* the common case */
            if (out != NULL)
                self->pos += take;
            goto done;
        }
        char *grown = PyMem_Realloc(acc, got + take);
        if (grown == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        acc = grown;
        memcpy(acc + got, chunk, take);
        got += take;
        self->pos += take;
        if (nl != NULL)
            break;
    }
    out = PyBytes_FromStringAndSize(acc, (Py_ssize_t)got);
done:
    PyMem_Free(acc);
    return out;
}

static PyObject *readline_limit(input_t *self, Py_ssize_t limit)
{
    Py_ssize_t n = readable_bytes(self, limit);
    if (n == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (self->mem == NULL)
        return readline_spooled(self, n);
    const char *start = self->mem + self->pos;
    const char *nl = memchr(start, '\n', (size_t)n);
    return read_bytes(self, nl != NULL ? (Py_ssize_t)(nl - start) + 1 : n);
}

static PyObject *input_read(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    input_t *self = (input_t *)op;
    Py_ssize_t size;
    if (parse_size(args, nargs, "read", &size) < 0 || check_attached(self) < 0)
        return NULL;
    return read_bytes(self, readable_bytes(self, size));
}

static PyObject *input_readline(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    input_t *self = (input_t *)op;
    Py_ssize_t size;
    if (parse_size(args, nargs, "readline", &size) < 0 || check_attached(self) < 0)
        return NULL;
    return readline_limit(self, size);
}

static PyObject *input_readlines(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    input_t *self = (input_t *)op;
    Py_ssize_t hint;
    if (parse_size(args, nargs, "readlines", &hint) < 0 || check_attached(self) < 0)
        return NULL;
    PyObject *lines = PyList_New(0);
    if (lines == NULL)
        return NULL;
    Py_ssize_t total = 0;
    for (;;) {
        PyObject *line = readline_limit(self, -1);
        if (line == NULL) {
            Py_DECREF(lines);
            return NULL;
        }
        Py_ssize_t len = PyBytes_GET_SIZE(line);
        if (len == 0) {
            Py_DECREF(line);
            break;
        }
        int rc = PyList_Append(lines, line);
        Py_DECREF(line);
        if (rc < 0) {
            Py_DECREF(lines);
            return NULL;
        }
        total += len;
        if (hint > 0 && total >= hint)
            break;
    }
    return lines;
}

static PyObject *input_iternext(PyObject *op)
{
    input_t *self = (input_t *)op;
    if (check_attached(self) < 0)
        return NULL;
    PyObject *line = readline_limit(self, -1);
    if (line != NULL && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* NULL without an exception: StopIteration */
    }
    return line;
}

static PyObject *input_readable(PyObject *op, PyObject *unused)
{
    (void)op;
    (void)unused;
    Py_RETURN_TRUE;
}

/* The server owns the body; closing the stream is harmless and does nothing. */
static PyObject *input_close(PyObject *op, PyObject *unused)
{
    (void)op;
    (void)unused;
    Py_RETURN_NONE;
}

static void input_dealloc(PyObject *op)
{
    input_t *self = (input_t *)op;
    PyMem_Free(self->cache);
    PyObject_Free(op);
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL,
     "read(size=-1): at most size bytes (all that is left when size < 0); b'' at the end."},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
     "readline(size=-1): one line, newline included, of at most size bytes."},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines, METH_FASTCALL,
     "readlines(hint=-1): a list of lines, stopping once hint bytes were read."},
    {"readable", input_readable, METH_NOARGS, "True."},
    {"close", input_close, METH_NOARGS, "Does nothing: the server owns the body."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject input_type = {
    /* clang-format off */
    PyVarObject_HEAD_INIT(NULL, 0)
        /* clang-format on */
        .tp_name = "wsgihost.InputStream",
    .tp_basicsize = sizeof(input_t),
    .tp_dealloc = input_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.input: the request body.",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = input_iternext,
    .tp_methods = input_methods,
};

int wh_input_init(void)
{
    return PyType_Ready(&input_type);
}

PyObject *wh_input_new(void)
{
    input_t *self = PyObject_New(input_t, &input_type);
    if (self == NULL)
        return NULL;
    self->attached = false;
    self->mem = NULL;
    self->fd = -1;
    self->len = 0;
    self->pos = 0;
    self->cache = NULL;
    self->cache_start = 0;
    self->cache_len = 0;
    return (PyObject *)self;
}

void wh_input_attach(PyObject *input, const wh_request_t *req)
{
    input_t *self = (input_t *)input;
    self->attached = true;
    self->fd = req->body_fd;
    self->mem = req->body_fd >= 0 ? NULL : req->body;
    self->len = req->body_len;
    if (self->mem == NULL && self->fd < 0)
        self->len = 0; /* no body at all */
    self->pos = 0;
    self->cache_len = 0;
}

void wh_input_detach(PyObject *input)
{
    input_t *self = (input_t *)input;
    self->attached = false;
    self->mem = NULL;
    self->fd = -1;
    self->len = 0;
    self->pos = 0;
    self->cache_len = 0;
}
