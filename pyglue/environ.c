/* Builds the WSGI environ. Constants live in a template dict copied per request (PyDict_Copy
 * is a flat memory copy for a dict like this); keys are interned once so the app's lookups hit
 * by identity; frequent values (methods, protocols, schemes) and frequent header keys are
 * cached. Every str is the latin-1 decoding of the request's bytes, as PEP 3333 asks. */
#include "pyglue/environ.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pyglue/errors.h"
#include "pyglue/filewrapper.h"

#ifndef WSGIHOST_VERSION
#define WSGIHOST_VERSION "0"
#endif

/* Header names converted on the stack up to this size ("HTTP_" included); longer ones use
 * the heap. */
enum { HEADER_KEY_STACK = 256 };
enum { HTTP_PREFIX_LEN = 5 };
/* Room for a uint64_t in decimal. */
enum { U64_DIGITS = 24 };

enum key_id {
    K_REQUEST_METHOD,
    K_SCRIPT_NAME,
    K_PATH_INFO,
    K_QUERY_STRING,
    K_RAW_URI,
    K_REQUEST_URI,
    K_SERVER_PROTOCOL,
    K_SERVER_NAME,
    K_SERVER_PORT,
    K_SERVER_SOFTWARE,
    K_REMOTE_ADDR,
    K_REMOTE_PORT,
    K_CONTENT_TYPE,
    K_CONTENT_LENGTH,
    K_VERSION,
    K_URL_SCHEME,
    K_INPUT,
    K_INPUT_TERMINATED,
    K_ERRORS,
    K_MULTITHREAD,
    K_MULTIPROCESS,
    K_RUN_ONCE,
    K_FILE_WRAPPER,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    [K_REQUEST_METHOD] = "REQUEST_METHOD",
    [K_SCRIPT_NAME] = "SCRIPT_NAME",
    [K_PATH_INFO] = "PATH_INFO",
    [K_QUERY_STRING] = "QUERY_STRING",
    [K_RAW_URI] = "RAW_URI",
    [K_REQUEST_URI] = "REQUEST_URI",
    [K_SERVER_PROTOCOL] = "SERVER_PROTOCOL",
    [K_SERVER_NAME] = "SERVER_NAME",
    [K_SERVER_PORT] = "SERVER_PORT",
    [K_SERVER_SOFTWARE] = "SERVER_SOFTWARE",
    [K_REMOTE_ADDR] = "REMOTE_ADDR",
    [K_REMOTE_PORT] = "REMOTE_PORT",
    [K_CONTENT_TYPE] = "CONTENT_TYPE",
    [K_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [K_VERSION] = "wsgi.version",
    [K_URL_SCHEME] = "wsgi.url_scheme",
    [K_INPUT] = "wsgi.input",
    [K_INPUT_TERMINATED] = "wsgi.input_terminated",
    [K_ERRORS] = "wsgi.errors",
    [K_MULTITHREAD] = "wsgi.multithread",
    [K_MULTIPROCESS] = "wsgi.multiprocess",
    [K_RUN_ONCE] = "wsgi.run_once",
    [K_FILE_WRAPPER] = "wsgi.file_wrapper",
};

static PyObject *keys[K_COUNT];

/* Request headers seen on most requests: their environ keys are interned once. */
enum { H_COOKIE, H_CONTENT_TYPE, H_CONTENT_LENGTH, H_REQUEST_ID, H_FIRST_PLAIN };
static const char *const common_header_names[] = {
    [H_COOKIE] = "Cookie",
    [H_CONTENT_TYPE] = "Content-Type",
    [H_CONTENT_LENGTH] = "Content-Length",
    [H_REQUEST_ID] = "X-Request-Id",
    "Host",
    "User-Agent",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Connection",
    "Cache-Control",
    "Pragma",
    "Referer",
    "Origin",
    "Authorization",
    "If-None-Match",
    "If-Modified-Since",
    "Range",
    "Upgrade-Insecure-Requests",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Real-Ip",
    "X-Requested-With",
    "X-Csrftoken",
    "Sec-Fetch-Site",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Dest",
    "Sec-Fetch-User",
    "Dnt",
};
#define COMMON_HEADERS (sizeof(common_header_names) / sizeof(common_header_names[0]))
static size_t common_header_lens[COMMON_HEADERS];
static PyObject *common_header_keys[COMMON_HEADERS];

/* Values worth sharing between requests. */
typedef struct {
    const char *text;
    size_t len;
    PyObject *obj;
} cached_value_t;

enum { V_EMPTY };
static cached_value_t cached_values[] = {
    /* lengths and objects are filled in at init */
    [V_EMPTY] = {"", 0, NULL}, {"GET", 0, NULL},      {"POST", 0, NULL},    {"HEAD", 0, NULL},
    {"PUT", 0, NULL},          {"DELETE", 0, NULL},   {"OPTIONS", 0, NULL}, {"PATCH", 0, NULL},
    {"HTTP/1.1", 0, NULL},     {"HTTP/1.0", 0, NULL}, {"http", 0, NULL},    {"https", 0, NULL},
};
#define CACHED_VALUES (sizeof(cached_values) / sizeof(cached_values[0]))

static PyObject *template_env;
static char *script_name; /* $SCRIPT_NAME without trailing '/', or NULL */
static size_t script_name_len;

static PyObject *latin1(const char *ptr, size_t len)
{
    return PyUnicode_DecodeLatin1(ptr, (Py_ssize_t)len, NULL);
}

/* A str for s: a cached one when s is a common value (a new reference either way). */
static PyObject *value_str(const wh_str_t *s)
{
    for (size_t i = 0; i < CACHED_VALUES; i++) {
        const cached_value_t *c = &cached_values[i];
        if (c->len == s->len && memcmp(c->text, s->ptr, s->len) == 0)
            return Py_NewRef(cached_values[i].obj);
    }
    return latin1(s->ptr, s->len);
}

/* Sets env[key] = value, consuming the value reference (NULL: an error already set). */
static int set_steal(PyObject *env, PyObject *key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyDict_SetItem(env, key, value);
    Py_DECREF(value);
    return rc;
}

static int set_bytes(PyObject *env, enum key_id key, const char *ptr, size_t len)
{
    return set_steal(env, keys[key],
                     len == 0 ? Py_NewRef(cached_values[V_EMPTY].obj) : latin1(ptr, len));
}

/* Index of a common header named `name` (ASCII case-insensitive), or -1. */
static int common_header(const wh_str_t *name)
{
    for (size_t i = 0; i < COMMON_HEADERS; i++) {
        if (common_header_lens[i] == name->len &&
            strncasecmp(common_header_names[i], name->ptr, name->len) == 0)
            return (int)i;
    }
    return -1;
}

/* "HTTP_" + the name upper-cased with '-' as '_' (a new reference). */
static PyObject *header_key(const wh_str_t *name)
{
    char stack[HEADER_KEY_STACK];
    size_t len = HTTP_PREFIX_LEN + name->len;
    char *buf = len <= sizeof(stack) ? stack : PyMem_Malloc(len);
    if (buf == NULL)
        return PyErr_NoMemory();
    memcpy(buf, "HTTP_", HTTP_PREFIX_LEN);
    for (size_t i = 0; i < name->len; i++) {
        char c = name->ptr[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (c == '-')
            c = '_';
        buf[HTTP_PREFIX_LEN + i] = c;
    }
    PyObject *key = latin1(buf, len);
    if (buf != stack)
        PyMem_Free(buf);
    return key;
}

/* Adds one header line: a repeated field is joined to the earlier value(s) with `sep`. */
static int add_header(PyObject *env, PyObject *key, const wh_str_t *value, const char *sep)
{
    PyObject *earlier = PyDict_GetItemWithError(env, key); /* borrowed */
    if (earlier == NULL && PyErr_Occurred())
        return -1;
    PyObject *v = latin1(value->ptr, value->len);
    if (v == NULL || earlier == NULL)
        return set_steal(env, key, v);
    PyObject *joined = PyUnicode_FromFormat("%U%s%U", earlier, sep, v);
    Py_DECREF(v);
    return set_steal(env, key, joined);
}

static int add_headers(PyObject *env, const wh_request_t *req)
{
    for (size_t i = 0; i < req->header_count; i++) {
        const wh_header_t *h = &req->headers[i];
        int common = common_header(&h->name);
        if (common == H_CONTENT_LENGTH)
            continue; /* CONTENT_LENGTH comes from the (de-chunked) body length */
        const char *sep = common == H_COOKIE ? "; " : ", "; /* cookies split on ';' */
        PyObject *key = common >= 0 ? Py_NewRef(common_header_keys[common]) : header_key(&h->name);
        if (key == NULL)
            return -1;
        int rc = add_header(env, key, &h->value, sep);
        Py_DECREF(key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* PATH_INFO without the $SCRIPT_NAME prefix when the path starts with it (gunicorn does the
 * same); a prefix must end at a segment boundary. */
static wh_str_t path_info(const wh_request_t *req)
{
    wh_str_t p = req->path;
    if (script_name != NULL && p.len >= script_name_len &&
        memcmp(p.ptr, script_name, script_name_len) == 0 &&
        (p.len == script_name_len || p.ptr[script_name_len] == '/')) {
        p.ptr += script_name_len;
        p.len -= script_name_len;
    }
    return p;
}

PyObject *wh_environ_build(const wh_request_t *req, PyObject *input)
{
    PyObject *env = PyDict_Copy(template_env);
    if (env == NULL)
        return NULL;
    wh_str_t path = path_info(req);
    PyObject *uri = latin1(req->target.ptr, req->target.len);
    if (uri == NULL)
        goto fail;
    int rc = PyDict_SetItem(env, keys[K_RAW_URI], uri);
    if (rc == 0)
        rc = PyDict_SetItem(env, keys[K_REQUEST_URI], uri);
    Py_DECREF(uri);
    if (rc < 0 || set_steal(env, keys[K_REQUEST_METHOD], value_str(&req->method)) < 0 ||
        set_bytes(env, K_PATH_INFO, path.ptr, path.len) < 0 ||
        set_bytes(env, K_QUERY_STRING, req->query.ptr, req->query.len) < 0 ||
        set_steal(env, keys[K_SERVER_PROTOCOL], value_str(&req->version)) < 0 ||
        set_bytes(env, K_SERVER_NAME, req->server_name.ptr, req->server_name.len) < 0 ||
        set_bytes(env, K_SERVER_PORT, req->server_port.ptr, req->server_port.len) < 0 ||
        set_bytes(env, K_REMOTE_ADDR, req->remote_addr.ptr, req->remote_addr.len) < 0 ||
        set_bytes(env, K_REMOTE_PORT, req->remote_port.ptr, req->remote_port.len) < 0 ||
        set_steal(env, keys[K_URL_SCHEME], value_str(&req->url_scheme)) < 0 ||
        PyDict_SetItem(env, keys[K_INPUT], input) < 0)
        goto fail;
    if (req->has_body) {
        char digits[U64_DIGITS];
        int n = snprintf(digits, sizeof(digits), "%" PRIu64, req->body_len);
        if (set_bytes(env, K_CONTENT_LENGTH, digits, (size_t)n) < 0)
            goto fail;
    }
    if (add_headers(env, req) < 0)
        goto fail;
    /* --request-id: the server's ID replaces whatever the client sent. */
    if (req->request_id.len > 0 && set_steal(env, common_header_keys[H_REQUEST_ID],
                                             latin1(req->request_id.ptr, req->request_id.len)) < 0)
        goto fail;
    return env;
fail:
    Py_DECREF(env);
    return NULL;
}

static int intern_all(void)
{
    for (size_t i = 0; i < K_COUNT; i++) {
        keys[i] = PyUnicode_InternFromString(key_names[i]);
        if (keys[i] == NULL)
            return -1;
    }
    for (size_t i = 0; i < COMMON_HEADERS; i++) {
        wh_str_t name = {common_header_names[i], strlen(common_header_names[i])};
        common_header_lens[i] = name.len;
        if (i == H_CONTENT_TYPE) {
            common_header_keys[i] = Py_NewRef(keys[K_CONTENT_TYPE]);
            continue;
        }
        common_header_keys[i] = header_key(&name);
        if (common_header_keys[i] == NULL)
            return -1;
        PyUnicode_InternInPlace(&common_header_keys[i]);
    }
    for (size_t i = 0; i < CACHED_VALUES; i++) {
        cached_values[i].len = strlen(cached_values[i].text);
        cached_values[i].obj = PyUnicode_InternFromString(cached_values[i].text);
        if (cached_values[i].obj == NULL)
            return -1;
    }
    return 0;
}

/* Reads $SCRIPT_NAME (the mount point, as gunicorn honours it), dropping trailing slashes. */
static int read_script_name(void)
{
    const char *env = getenv("SCRIPT_NAME");
    if (env == NULL)
        return 0;
    size_t len = strlen(env);
    while (len > 0 && env[len - 1] == '/')
        len--;
    if (len == 0)
        return 0;
    script_name = PyMem_RawMalloc(len + 1);
    if (script_name == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(script_name, env, len);
    script_name[len] = '\0';
    script_name_len = len;
    return 0;
}

static int template_set(enum key_id key, PyObject *value)
{
    return set_steal(template_env, keys[key], value);
}

int wh_environ_init(bool multithread, bool multiprocess)
{
    if (intern_all() < 0 || read_script_name() < 0)
        return -1;
    template_env = PyDict_New();
    if (template_env == NULL)
        return -1;
    if (template_set(K_VERSION, Py_BuildValue("(ii)", 1, 0)) < 0 ||
        template_set(K_MULTITHREAD, PyBool_FromLong(multithread)) < 0 ||
        template_set(K_MULTIPROCESS, PyBool_FromLong(multiprocess)) < 0 ||
        template_set(K_RUN_ONCE, Py_NewRef(Py_False)) < 0 ||
        template_set(K_INPUT_TERMINATED, Py_NewRef(Py_True)) < 0 ||
        set_bytes(template_env, K_SCRIPT_NAME, script_name, script_name_len) < 0 ||
        template_set(K_SERVER_SOFTWARE, PyUnicode_FromString("wsgihost/" WSGIHOST_VERSION)) < 0 ||
        template_set(K_ERRORS, wh_errors_new()) < 0 ||
        template_set(K_FILE_WRAPPER, Py_NewRef(wh_filewrapper_type())) < 0)
        return -1;
    return 0;
}

void wh_environ_fini(void)
{
    Py_CLEAR(template_env);
    for (size_t i = 0; i < K_COUNT; i++)
        Py_CLEAR(keys[i]);
    for (size_t i = 0; i < COMMON_HEADERS; i++)
        Py_CLEAR(common_header_keys[i]);
    for (size_t i = 0; i < CACHED_VALUES; i++)
        Py_CLEAR(cached_values[i].obj);
    PyMem_RawFree(script_name);
    script_name = NULL;
    script_name_len = 0;
}
