/* Runner threads. Each takes the GIL once and keeps it while there is work: queued exchanges
 * are taken with wh_jobq_try_pop under the GIL, and the GIL is only released around the calls
 * that block (wh_jobq_pop when the queue is empty, wh_exchange_wait_writable on back-pressure).
 *
 * start_response is a per-thread object whose type is callable, reused across requests while
 * nobody else holds a reference; it converts status and headers to latin-1 at once and keeps
 * them in reusable buffers. Headers go out lazily (first non-empty body bytes, or the end of the
 * iterable), so an exception before any body still becomes a 500. */
#include "pyglue/wsgi.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyglue/environ.h"
#include "pyglue/errors.h"
#include "pyglue/filewrapper.h"
#include "pyglue/input.h"
#include "server/core/buf.h"
#include "server/core/log.h"

/* How much of a bad status or header an error message quotes. */
enum { QUOTE_MAX = 120 };
/* Escaped form of one byte: "\xNN". */
enum { ESCAPED_BYTE_LEN = 4 };
/* Request line parts quoted in error logs. */
enum { LOG_TARGET_MAX = 200 };

/* Outcome of producing output. */
enum out_rc {
    OUT_OK = 0,
    OUT_PYERR = -1, /* a Python exception is set */
    OUT_GONE = -2,  /* the client went away: stop producing */
};

typedef struct start_response start_response_t;

/* The write() callable start_response returns. It borrows its start_response, which clears
 * the pointer when it goes away. */
typedef struct {
    PyObject ob_base;
    start_response_t *sr;
} writer_t;

/* A stored status or header field: a range of start_response_t.head. */
typedef struct {
    size_t off;
    size_t len;
} span_t;

struct start_response {
    PyObject ob_base;
    wh_exchange_t *ex; /* NULL outside a request: calls then raise */
    pthread_t thread;  /* the runner: only it may produce output (server/http/exchange.h) */
    writer_t *writer;
    bool started; /* status and headers are stored */
    bool sent;    /* wh_exchange_start was called */
    bool client_gone;
    bool full;              /* the queue passed its high-water mark: wait before producing more */
    int64_t content_length; /* the app's Content-Length, or -1 */
    wh_buf_t head;          /* latin-1 status, then each header name and value */
    span_t *spans;          /* [0] the status, then name/value pairs */
    size_t span_count;
    size_t span_cap;
    wh_header_t *headers; /* built from spans when the head is sent */
    size_t header_cap;
};

typedef struct {
    pthread_t tid;
    wh_jobq_t *queue;
    start_response_t *sr; /* cached between requests */
    PyObject *input;      /* cached between requests */
    atomic_uint_fast64_t done;
} runner_t;

static PyObject *app;
static runner_t *runners;
static int runner_count;
static runner_t loop_runner; /* --threads 0: the loop thread's own */

static PyTypeObject start_response_type;
static PyTypeObject writer_type;

/* ---- status and headers --------------------------------------------------------------- */

/* Appends the latin-1 bytes of a str as a new span. 0, or -1 with an exception set. */
static int store_latin1(start_response_t *sr, PyObject *s, const char *what)
{
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(s)->tp_name);
        return -1;
    }
    if (sr->span_count == sr->span_cap) {
        size_t cap = sr->span_cap ? sr->span_cap * 2 : 32;
        span_t *spans = PyMem_Realloc(sr->spans, cap * sizeof(*spans));
        if (spans == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        sr->spans = spans;
        sr->span_cap = cap;
    }
    PyObject *bytes = NULL;
    const char *data;
    Py_ssize_t len;
    if (PyUnicode_IS_ASCII(s)) { /* the usual case: the str's own buffer, no copy */
        data = PyUnicode_AsUTF8AndSize(s, &len);
    } else {
        bytes = PyUnicode_AsLatin1String(s);
        data = bytes ? PyBytes_AS_STRING(bytes) : NULL;
        len = bytes ? PyBytes_GET_SIZE(bytes) : 0;
    }
    if (data == NULL)
        return -1;
    span_t span = {sr->head.len, (size_t)len};
    int rc = wh_buf_append(&sr->head, data, (size_t)len);
    Py_XDECREF(bytes);
    if (rc < 0) {
        PyErr_NoMemory();
        return -1;
    }
    sr->spans[sr->span_count++] = span;
    return 0;
}

static const char *span_ptr(const start_response_t *sr, size_t i)
{
    return sr->head.data + sr->spans[i].off;
}

/* The app's Content-Length value as a number, or -1 when it is not plain digits. */
static int64_t parse_length(const char *p, size_t n)
{
    int64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

static int store_headers(start_response_t *sr, PyObject *status, PyObject *headers)
{
    sr->head.len = 0;
    sr->span_count = 0;
    sr->content_length = -1;
    if (store_latin1(sr, status, "status") < 0)
        return -1;
    if (!PyList_Check(headers) && !PyTuple_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "headers must be a list, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(headers, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError, "each header must be a (name, value) tuple, not %.100R",
                         item);
            return -1;
        }
        if (store_latin1(sr, PyTuple_GET_ITEM(item, 0), "header name") < 0 ||
            store_latin1(sr, PyTuple_GET_ITEM(item, 1), "header value") < 0)
            return -1;
        size_t name = sr->span_count - 2;
        if (sr->spans[name].len == strlen("Content-Length") &&
            strncasecmp(span_ptr(sr, name), "Content-Length", sr->spans[name].len) == 0)
            sr->content_length = parse_length(span_ptr(sr, name + 1), sr->spans[name + 1].len);
    }
    return 0;
}

/* ---- describing what the server refused ----------------------------------------------- */

/* Copies at most QUOTE_MAX bytes of p into out, escaping what is not printable ASCII. */
static void quote(char *out, size_t cap, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && i < QUOTE_MAX && o + ESCAPED_BYTE_LEN + 1 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0xf];
        }
    }
    out[o] = '\0';
}

/* Checks the stored head as wh_exchange_start will, so start_response can raise at once (PEP
 * 3333: the app may catch it and start again). 0, or -1 with ValueError set. */
static int check_head(const start_response_t *sr)
{
    char q[QUOTE_MAX * ESCAPED_BYTE_LEN + 1];
    if (wh_status_parse(span_ptr(sr, 0), sr->spans[0].len) < WH_APP_STATUS_MIN) {
        quote(q, sizeof(q), span_ptr(sr, 0), sr->spans[0].len);
        PyErr_Format(PyExc_ValueError,
                     "invalid response status '%s': use a code from 200 to 999 and a reason, "
                     "as '200 OK'",
                     q);
        return -1;
    }
    for (size_t i = 1; i + 1 < sr->span_count; i += 2) {
        wh_header_t h = {{span_ptr(sr, i), sr->spans[i].len},
                         {span_ptr(sr, i + 1), sr->spans[i + 1].len}};
        if (!wh_header_valid(&h)) {
            wh_header_t name_only = {h.name, {"", 0}};
            quote(q, sizeof(q), h.name.ptr, h.name.len);
            PyErr_Format(PyExc_ValueError, "invalid response header '%s': %s", q,
                         wh_header_valid(&name_only)
                             ? "its value has CR, LF, NUL or another control character"
                             : "its name is not a token (letters, digits, !#$%&'*+-.^_`|~)");
            return -1;
        }
    }
    return 0;
}

/* ---- producing output ----------------------------------------------------------------- */

/* Turns a producing call's result into an out_rc. A full queue is remembered, not waited
 * for: the wait happens before the next piece is queued (wait_if_full in send_body), so an app
 * whose last piece filled the queue frees its thread at once and the loop drains it alone.
 * Memory stays bounded: past the high-water mark at most one more piece (which the app has
 * already made) is queued before the thread waits. */
static int settle(start_response_t *sr, int rc)
{
    if (rc == WH_FULL) {
        sr->full = true;
        rc = WH_OK;
    }
    switch (rc) {
    case WH_OK:
        return OUT_OK;
    case WH_ECLIENT:
        sr->client_gone = true;
        return OUT_GONE;
    case WH_ESTATE:
        PyErr_SetString(PyExc_RuntimeError, "response produced out of order");
        return OUT_PYERR;
    default:
        PyErr_Format(PyExc_RuntimeError, "unexpected result %d from the server", rc);
        return OUT_PYERR;
    }
}

/* Sends the stored status and headers; body_len_hint >= 0 when the whole length is known. */
static int send_head(start_response_t *sr, int64_t body_len_hint)
{
    if (!sr->started) {
        PyErr_SetString(PyExc_RuntimeError, "the application did not call start_response()");
        return OUT_PYERR;
    }
    size_t count = (sr->span_count - 1) / 2;
    if (count > sr->header_cap) {
        wh_header_t *h = PyMem_Realloc(sr->headers, count * sizeof(*h));
        if (h == NULL) {
            PyErr_NoMemory();
            return OUT_PYERR;
        }
        sr->headers = h;
        sr->header_cap = count;
    }
    for (size_t i = 0; i < count; i++) {
        size_t n = 1 + 2 * i;
        sr->headers[i].name = (wh_str_t){span_ptr(sr, n), sr->spans[n].len};
        sr->headers[i].value = (wh_str_t){span_ptr(sr, n + 1), sr->spans[n + 1].len};
    }
    int rc = wh_exchange_start(sr->ex, span_ptr(sr, 0), sr->spans[0].len, sr->headers, count,
                               body_len_hint);
    if (rc == WH_EINVAL) { /* checked by start_response: not expected */
        if (check_head(sr) == 0)
            PyErr_SetString(PyExc_ValueError, "the server refused the response head");
        return OUT_PYERR;
    }
    if (rc == WH_OK || rc == WH_FULL)
        sr->sent = true;
    return settle(sr, rc);
}

/* Back-pressure: waits (GIL released) until the loop has written the queue down. */
static int wait_if_full(start_response_t *sr)
{
    if (!sr->full)
        return OUT_OK;
    sr->full = false;
    PyThreadState *ts = PyEval_SaveThread();
    int rc = wh_exchange_wait_writable(sr->ex);
    PyEval_RestoreThread(ts);
    return settle(sr, rc);
}

static int send_body(start_response_t *sr, const char *data, size_t len)
{
    if (len == 0)
        return OUT_OK;
    int waited = wait_if_full(sr);
    if (waited != OUT_OK)
        return waited;
    if (!sr->sent) {
        int rc = send_head(sr, -1);
        if (rc != OUT_OK)
            return rc;
    }
    return settle(sr, wh_exchange_write(sr->ex, data, len));
}

/* ---- start_response and write() ------------------------------------------------------- */

/* Re-raises exc_info = (type, value, traceback). */
static PyObject *reraise(PyObject *exc_info)
{
    if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
        PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple");
        return NULL;
    }
    wh_py_raise_exc_info(PyTuple_GET_ITEM(exc_info, 0), PyTuple_GET_ITEM(exc_info, 1),
                         PyTuple_GET_ITEM(exc_info, 2));
    return NULL;
}

static PyObject *start_response_call(PyObject *op, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"status", "headers", "exc_info", NULL};
    start_response_t *sr = (start_response_t *)op;
    PyObject *status, *headers, *exc_info = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:start_response", kwlist, &status, &headers,
                                     &exc_info))
        return NULL;
    if (sr->ex == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called after its request ended");
        return NULL;
    }
    if (exc_info != Py_None) {
        if (sr->sent)
            return reraise(exc_info); /* too late to change the response: PEP 3333 */
    } else if (sr->started) {
        PyErr_SetString(PyExc_RuntimeError,
                        "start_response() called a second time without exc_info");
        return NULL;
    }
    sr->started = false;
    if (store_headers(sr, status, headers) < 0 || check_head(sr) < 0)
        return NULL;
    sr->started = true;
    return Py_NewRef((PyObject *)sr->writer);
}

static void start_response_dealloc(PyObject *op)
{
    start_response_t *sr = (start_response_t *)op;
    if (sr->writer != NULL) {
        sr->writer->sr = NULL;
        Py_DECREF(sr->writer);
    }
    wh_buf_free(&sr->head);
    PyMem_Free(sr->spans);
    PyMem_Free(sr->headers);
    PyObject_Free(op);
}

static PyObject *writer_call(PyObject *op, PyObject *args, PyObject *kwargs)
{
    start_response_t *sr = ((writer_t *)op)->sr;
    PyObject *data;
    if (!PyArg_ParseTuple(args, "O:write", &data))
        return NULL;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError, "write() takes no keyword arguments");
        return NULL;
    }
    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be bytes, not %.100s",
                     Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (sr == NULL || sr->ex == NULL) {
        PyErr_SetString(PyExc_ValueError, "write() called after its request ended");
        return NULL;
    }
    if (!pthread_equal(sr->thread, pthread_self())) {
        PyErr_SetString(PyExc_RuntimeError,
                        "write() must be called from the thread running the request");
        return NULL;
    }
    if (sr->client_gone) {
        PyErr_SetString(PyExc_OSError, "the client disconnected");
        return NULL;
    }
    Py_INCREF(data); /* the GIL may be released while waiting for room */
    int rc = send_body(sr, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data));
    Py_DECREF(data);
    if (rc == OUT_GONE)
        PyErr_SetString(PyExc_OSError, "the client disconnected");
    if (rc != OUT_OK)
        return NULL;
    Py_RETURN_NONE;
}

/* A writer holds no references: its start_response is borrowed. */
static void writer_dealloc(PyObject *op)
{
    PyObject_Free(op);
}

static PyTypeObject start_response_type = {
    /* clang-format off */
    PyVarObject_HEAD_INIT(NULL, 0)
        /* clang-format on */
        .tp_name = "wsgihost.StartResponse",
    .tp_basicsize = sizeof(start_response_t),
    .tp_dealloc = start_response_dealloc,
    .tp_call = start_response_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "start_response(status, headers, exc_info=None) -> write",
};

static PyTypeObject writer_type = {
    /* clang-format off */
    PyVarObject_HEAD_INIT(NULL, 0)
        /* clang-format on */
        .tp_name = "wsgihost.Write",
    .tp_basicsize = sizeof(writer_t),
    .tp_dealloc = writer_dealloc,
    .tp_call = writer_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "write(data): send body bytes now (for legacy applications)",
};

static start_response_t *start_response_new(void)
{
    start_response_t *sr = PyObject_New(start_response_t, &start_response_type);
    if (sr == NULL)
        return NULL;
    sr->ex = NULL;
    sr->thread = pthread_self();
    sr->started = sr->sent = sr->client_gone = sr->full = false;
    sr->content_length = -1;
    sr->head = (wh_buf_t)WH_BUF_INIT;
    sr->spans = NULL;
    sr->span_count = sr->span_cap = 0;
    sr->headers = NULL;
    sr->header_cap = 0;
    sr->writer = PyObject_New(writer_t, &writer_type);
    if (sr->writer == NULL) {
        Py_DECREF(sr);
        return NULL;
    }
    sr->writer->sr = sr;
    return sr;
}

/* ---- the response iterable ------------------------------------------------------------ */

/* A list or tuple of bytes: the length is known, so no chunked encoding. */
static int send_sequence(start_response_t *sr, PyObject *seq)
{
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "the application returned a %.100s, not bytes",
                         Py_TYPE(item)->tp_name);
            return OUT_PYERR;
        }
        total += PyBytes_GET_SIZE(item);
    }
    int rc = sr->sent ? OUT_OK : send_head(sr, total);
    /* Index each time: the GIL may be released while waiting, and the list could change. */
    for (Py_ssize_t i = 0; rc == OUT_OK && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
        if (PyBytes_Check(item))
            rc = send_body(sr, PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item));
        Py_DECREF(item);
    }
    return rc;
}

static int send_iterable(start_response_t *sr, PyObject *result)
{
    PyObject *it = PyObject_GetIter(result);
    if (it == NULL)
        return OUT_PYERR;
    int rc = OUT_OK;
    PyObject *item;
    while (rc == OUT_OK && (item = PyIter_Next(it)) != NULL) {
        if (PyBytes_Check(item)) {
            rc = send_body(sr, PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item));
        } else {
            PyErr_Format(PyExc_TypeError, "the application yielded a %.100s, not bytes",
                         Py_TYPE(item)->tp_name);
            rc = OUT_PYERR;
        }
        Py_DECREF(item);
    }
    Py_DECREF(it);
    if (rc == OUT_OK && PyErr_Occurred())
        rc = OUT_PYERR;
    if (rc == OUT_OK && !sr->sent)
        rc = send_head(sr, 0); /* no body bytes at all */
    return rc;
}

/* The descriptor and position of a file wrapper's file when it is a regular file; 0 when
 * sendfile applies, -1 (no exception left set) to iterate instead. */
static int sendfile_source(PyObject *filelike, int *fd, int64_t *pos, int64_t *size)
{
    PyObject *r = PyObject_CallMethod(filelike, "fileno", NULL);
    long v = r != NULL ? PyLong_AsLong(r) : -1;
    Py_XDECREF(r);
    if (v < 0 || v > INT32_MAX) {
        PyErr_Clear(); /* no fileno() (BytesIO and the like): iterate */
        return -1;
    }
    struct stat st;
    if (fstat((int)v, &st) < 0 || !S_ISREG(st.st_mode))
        return -1;
    /* tell() accounts for Python-side buffering, which the descriptor's offset does not. */
    r = PyObject_CallMethod(filelike, "tell", NULL);
    long long at = r != NULL ? PyLong_AsLongLong(r) : -1;
    Py_XDECREF(r);
    if (at < 0) {
        PyErr_Clear();
        off_t cur = lseek((int)v, 0, SEEK_CUR);
        if (cur < 0)
            return -1;
        at = cur;
    }
    *fd = (int)v;
    *pos = at;
    *size = st.st_size;
    return 0;
}

static int send_file(start_response_t *sr, PyObject *wrapper, PyObject *filelike)
{
    int fd;
    int64_t pos, size;
    if (sendfile_source(filelike, &fd, &pos, &size) < 0)
        return send_iterable(sr, wrapper);
    int64_t count = size > pos ? size - pos : 0;
    if (sr->content_length >= 0 && sr->content_length < count)
        count = sr->content_length; /* Django's FileResponse states the length itself */
    int rc = sr->sent ? OUT_OK : send_head(sr, count);
    if (rc == OUT_OK && count > 0)
        rc = settle(sr, wh_exchange_sendfile(sr->ex, fd, pos, count));
    return rc;
}

static int send_result(start_response_t *sr, PyObject *result)
{
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
        return send_sequence(sr, result);
    PyObject *filelike = wh_filewrapper_filelike(result);
    if (filelike != NULL)
        return send_file(sr, result, filelike);
    return send_iterable(sr, result);
}

/* Calls result.close() when it has one (PEP 3333: always, whatever happened). */
static int close_result(PyObject *result)
{
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
        return 0;
    PyObject *close;
    int found = wh_py_getattr_optional(result, "close", &close);
    if (found <= 0)
        return found;
    PyObject *r = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    Py_XDECREF(r);
    return r != NULL ? 0 : -1;
}

/* ---- one exchange --------------------------------------------------------------------- */

static int clip(size_t len)
{
    return len < LOG_TARGET_MAX ? (int)len : LOG_TARGET_MAX;
}

static void log_app_error(const start_response_t *sr, const wh_request_t *req, const char *what)
{
    if (sr->client_gone && PyErr_ExceptionMatches(PyExc_OSError)) {
        PyErr_Clear(); /* the app only saw our "client disconnected" */
        wh_log(WH_LOG_DEBUG, "client went away during %.*s %.*s", clip(req->method.len),
               req->method.ptr, clip(req->target.len), req->target.ptr);
        return;
    }
    wh_errors_log_exception("%s handling %.*s %.*s", what, clip(req->method.len), req->method.ptr,
                            clip(req->target.len), req->target.ptr);
}

/* The runner's cached objects, replaced when the app kept a reference to the old ones. */
static int runner_objects(runner_t *r)
{
    if (r->sr == NULL && (r->sr = start_response_new()) == NULL)
        return -1;
    if (r->input == NULL && (r->input = wh_input_new()) == NULL)
        return -1;
    return 0;
}

static void runner_release_kept(runner_t *r)
{
    if (r->sr != NULL && (Py_REFCNT(r->sr) > 1 || Py_REFCNT(r->sr->writer) > 1))
        Py_CLEAR(r->sr);
    if (r->input != NULL && Py_REFCNT(r->input) > 1)
        Py_CLEAR(r->input);
}

/* Set in a process the app forked (pthread_atfork): the server's listeners are closed there
 * (server/http/worker.c), and it must not go on serving as a second copy of this worker. */
static volatile sig_atomic_t forked_by_app;

static void note_forked_child(void)
{
    forked_by_app = 1;
}

/* The app forked and its child returned into the server (or raised SystemExit there): the
 * child ends here, with the exit status SystemExit carried (0 for a plain return). */
static _Noreturn void leave_forked_child(PyObject *result)
{
    int status = result != NULL ? 0 : 1;
    if (result == NULL && PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *code = value ? PyObject_GetAttrString(value, "code") : NULL;
        status = code == NULL || code == Py_None ? 0
                 : PyLong_Check(code)            ? (int)PyLong_AsLong(code)
                                                 : 1;
        PyErr_Clear();
    }
    wh_log(WH_LOG_WARNING,
           "a process forked by the application (pid %ld) returned into the server: it exits "
           "(end a forked child with os._exit)",
           (long)getpid());
    _exit(status);
}

static void run_exchange(runner_t *r, wh_exchange_t *ex)
{
    const wh_request_t *req = wh_exchange_request(ex);
    if (runner_objects(r) < 0) {
        wh_errors_log_exception("cannot set up the request");
        wh_exchange_finish(ex, WH_FINISH_ERROR);
        return;
    }
    start_response_t *sr = r->sr;
    sr->ex = ex;
    sr->started = sr->sent = sr->client_gone = sr->full = false;
    wh_input_attach(r->input, req);

    int rc = OUT_PYERR;
    PyObject *result = NULL;
    PyObject *environ = wh_environ_build(req, r->input);
    if (environ != NULL) {
        PyObject *args[] = {environ, (PyObject *)sr};
        result = PyObject_Vectorcall(app, args, 2, NULL);
        if (forked_by_app)
            leave_forked_child(result);
    }
    if (result != NULL)
        rc = send_result(sr, result);
    /* The answer is whole: out before close() and the clean-up, unless more work waits. Only
     * the loop runner writes it early (exchange.h): runner threads skip the queue's lock. */
    if (rc == OUT_OK && r == &loop_runner && wh_jobq_depth(r->queue) == 0)
        wh_exchange_flush(ex);
    if (rc == OUT_PYERR)
        log_app_error(sr, req,
                      environ != NULL ? "error in the application" : "cannot build environ");
    if (result != NULL && close_result(result) < 0)
        log_app_error(sr, req, "error in the close() of the application's response");
    Py_XDECREF(result);
    Py_XDECREF(environ);

    wh_input_detach(r->input);
    sr->ex = NULL;
    runner_release_kept(r);
    wh_exchange_finish(ex, rc == OUT_OK ? WH_FINISH_OK : WH_FINISH_ERROR);
    atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
}

static void *runner_main(void *arg)
{
    runner_t *r = arg;
    PyGILState_STATE gil = PyGILState_Ensure();
    for (;;) {
        /* Take queued work without letting go of the GIL; block only when there is none. */
        wh_exchange_t *ex = wh_jobq_try_pop(r->queue);
        if (ex == NULL) {
            PyThreadState *ts = PyEval_SaveThread();
            ex = wh_jobq_pop(r->queue);
            PyEval_RestoreThread(ts);
        }
        if (ex == NULL)
            break; /* shut down */
        run_exchange(r, ex);
    }
    Py_CLEAR(r->sr);
    Py_CLEAR(r->input);
    PyGILState_Release(gil);
    return NULL;
}

void wh_wsgi_run_here(wh_exchange_t *ex)
{
    run_exchange(&loop_runner, ex);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

int wh_wsgi_init(PyObject *application)
{
    if (PyType_Ready(&start_response_type) < 0 || PyType_Ready(&writer_type) < 0)
        return -1;
    app = Py_NewRef(application);
    return 0;
}

void wh_wsgi_fini(void)
{
    Py_CLEAR(loop_runner.sr);
    Py_CLEAR(loop_runner.input);
    Py_CLEAR(app);
    free(runners);
    runners = NULL;
    runner_count = 0;
}

int wh_wsgi_start(wh_jobq_t *q, int threads)
{
    int err = pthread_atfork(NULL, NULL, note_forked_child);
    if (err != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot set up the fork handler: %s", strerror(err));
        return -1;
    }
    loop_runner.queue = q;
    if (threads == 0)
        return 0; /* the loop runs the app (wh_wsgi_run_here) */
    runners = calloc((size_t)threads, sizeof(*runners));
    if (runners == NULL) {
        wh_log(WH_LOG_CRITICAL, "out of memory starting %d runner threads", threads);
        return -1;
    }
    /* Runners never handle signals: the server's loop owns them. They inherit this mask. */
    sigset_t all, old;
    sigfillset(&all);
    err = pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 0; err == 0 && i < threads; i++) {
        runners[i].queue = q;
        atomic_init(&runners[i].done, 0);
        err = pthread_create(&runners[i].tid, NULL, runner_main, &runners[i]);
        if (err == 0)
            runner_count++;
    }
    int restore = pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0 || restore != 0) {
        wh_log(WH_LOG_CRITICAL, "cannot start runner thread %d of %d: %s", runner_count + 1,
               threads, strerror(err != 0 ? err : restore));
        return -1;
    }
    return 0;
}

void wh_wsgi_join(void)
{
    for (int i = 0; i < runner_count; i++) {
        int err = pthread_join(runners[i].tid, NULL);
        if (err != 0)
            wh_log(WH_LOG_ERROR, "joining runner thread %d: %s", i, strerror(err));
    }
    runner_count = 0;
}

uint64_t wh_wsgi_progress(void)
{
    uint64_t total = atomic_load_explicit(&loop_runner.done, memory_order_relaxed);
    for (int i = 0; i < runner_count; i++)
        total += atomic_load_explicit(&runners[i].done, memory_order_relaxed);
    return total;
}
