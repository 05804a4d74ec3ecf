/* wsgi.errors: write(str), writelines(seq), flush(), going to the error log as UTF-8 (with
 * backslash escapes for what UTF-8 cannot carry, like lone surrogates). Also formats Python
 * exceptions with the traceback module for the error log or stderr. */
#include "pyglue/errors.h"

#include <stdarg.h>
#include <stdio.h>

#include "server/core/log.h"

/* A log line naming what failed; longer ones are cut (the traceback follows in full). */
enum { ERROR_LINE_MAX = 1024 };

static PyObject *format_exception_fn; /* traceback.format_exception */
static PyObject *empty_str;

/* Writes a str as UTF-8 to the error log. 0, or -1 with an exception set. */
static int log_str(PyObject *text)
{
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &len);
    if (utf8 != NULL) {
        wh_log_write_raw(utf8, (size_t)len);
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        return -1;
    PyErr_Clear();
    PyObject *bytes = PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace");
    if (bytes == NULL)
        return -1;
    wh_log_write_raw(PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    return 0;
}

static PyObject *errors_write(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (log_str(arg) < 0)
        return NULL;
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(arg));
}

static PyObject *errors_writelines(PyObject *self, PyObject *lines)
{
    PyObject *it = PyObject_GetIter(lines);
    if (it == NULL)
        return NULL;
    PyObject *line;
    while ((line = PyIter_Next(it)) != NULL) {
        PyObject *res = errors_write(self, line);
        Py_DECREF(line);
        if (res == NULL) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(res);
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* Every write is already a write(2): nothing to flush. */
static PyObject *errors_flush(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}

static PyMethodDef errors_methods[] = {
    {"write", errors_write, METH_O, "Write a str to the server's error log."},
    {"writelines", errors_writelines, METH_O, "Write each str of an iterable."},
    {"flush", errors_flush, METH_NOARGS, "No-op: writes are not buffered."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject errors_type = {
    /* clang-format off */
    PyVarObject_HEAD_INIT(NULL, 0)
        /* clang-format on */
        .tp_name = "wsgihost.ErrorStream",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.errors: writes go to the server's error log.",
    .tp_methods = errors_methods,
};

int wh_errors_init(void)
{
    if (PyType_Ready(&errors_type) < 0)
        return -1;
    empty_str = PyUnicode_FromStringAndSize(NULL, 0);
    if (empty_str == NULL)
        return -1;
    PyObject *traceback = PyImport_ImportModule("traceback");
    if (traceback == NULL)
        return -1;
    format_exception_fn = PyObject_GetAttrString(traceback, "format_exception");
    Py_DECREF(traceback);
    return format_exception_fn != NULL ? 0 : -1;
}

void wh_errors_fini(void)
{
    Py_CLEAR(format_exception_fn);
    Py_CLEAR(empty_str);
}

PyObject *wh_errors_new(void)
{
    return PyObject_New(PyObject, &errors_type);
}

/* The traceback text of `exc` (a new str), or NULL with an exception set. */
static PyObject *format_exception(PyObject *exc)
{
    if (format_exception_fn == NULL || empty_str == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "traceback formatter not initialised");
        return NULL;
    }
    PyObject *lines = PyObject_CallOneArg(format_exception_fn, exc);
    if (lines == NULL)
        return NULL;
    PyObject *text = PyUnicode_Join(empty_str, lines);
    Py_DECREF(lines);
    return text;
}

/* The pending exception's traceback (a new str), clearing it; on failure a short stand-in. */
static PyObject *take_traceback_text(void)
{
    PyObject *exc = wh_py_take_exception();
    if (exc == NULL)
        return PyUnicode_FromString("(no Python exception was set)\n");
    PyObject *text = format_exception(exc);
    if (text == NULL) {
        /* Formatting failed (out of memory, a broken __str__): say so without a traceback. */
        PyErr_Clear();
        text = PyUnicode_FromFormat("%s: (the traceback could not be formatted)\n",
                                    Py_TYPE(exc)->tp_name);
    }
    Py_DECREF(exc);
    return text;
}

void wh_errors_log_exception(const char *fmt, ...)
{
    char line[ERROR_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        line[0] = '\0';
    wh_log(WH_LOG_ERROR, "%s", line);

    PyObject *text = take_traceback_text();
    if (text == NULL || log_str(text) < 0) {
        PyErr_Clear();
        wh_log(WH_LOG_ERROR, "(the traceback could not be written: out of memory)");
    }
    Py_XDECREF(text);
}

void wh_errors_print_exception(void)
{
    PyObject *text = take_traceback_text();
    if (text == NULL) {
        PyErr_Clear();
        fputs("(the traceback could not be formatted: out of memory)\n", stderr);
        return;
    }
    PyObject *bytes = PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace");
    Py_DECREF(text);
    if (bytes == NULL) {
        PyErr_Clear();
        return;
    }
    if (fwrite(PyBytes_AS_STRING(bytes), 1, (size_t)PyBytes_GET_SIZE(bytes), stderr) !=
        (size_t)PyBytes_GET_SIZE(bytes))
        clearerr(stderr); /* nothing better to do when stderr itself fails */
    fflush(stderr);
    Py_DECREF(bytes);
}
