/* gunicorn configuration files (see pyglue/gunicornconf.h). The reading and the hook
 * objects are Python (pyglue/py/gunicornconf.py, run once in the master's interpreter); this
 * file starts the interpreter, applies what the file set as wsgihost options and calls the
 * hooks. */
#include "pyglue/gunicornconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyglue/compat.h"
#include "pyglue/embedded.h"
#include "server/core/errmsg.h"
#include "server/core/log.h"

static PyObject *code_ns; /* the namespace pyglue/py/gunicornconf.py ran in */
static PyObject *hooks;   /* {name: function} from the file */
static PyObject *server;  /* the `server` object hooks get */
static bool active;

/* _emit(level, text): a hook's log line into wsgihost's error log. */
static PyObject *emit(PyObject *self, PyObject *args)
{
    (void)self;
    int level;
    const char *text;
    if (!PyArg_ParseTuple(args, "is", &level, &text))
        return NULL;
    if (level < WH_LOG_DEBUG)
        level = WH_LOG_DEBUG;
    if (level > WH_LOG_CRITICAL)
        level = WH_LOG_CRITICAL;
    wh_log((wh_log_level_t)level, "%s", text);
    Py_RETURN_NONE;
}

static PyMethodDef emit_def = {"_emit", emit, METH_VARARGS, "Writes a line to the error log."};

static PyObject *ns_get(const char *name)
{
    PyObject *o = PyDict_GetItemString(code_ns, name); /* borrowed */
    if (o == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_RuntimeError, "gunicornconf: %s missing", name);
    return o;
}

static int apply_options(PyObject *options, wh_config_t *cfg, const char *path, char *err,
                         size_t err_size)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(options); i++) {
        PyObject *pair = PyList_GET_ITEM(options, i);
        const char *name, *text;
        if (!PyArg_ParseTuple(pair, "ss", &name, &text)) {
            PyErr_Clear();
            return wh_errorf(err, err_size, "%s: a setting's value cannot be read as text", path);
        }
        char why[512];
        if (wh_config_apply(cfg, name, text, path, why, sizeof(why)) != 0)
            return wh_errorf(err, err_size, "%s", why);
    }
    return 0;
}

/* The table's rows for the gunicorn settings, as load()'s `rows`. */
static PyObject *gunicorn_rows(void)
{
    PyObject *rows = PyList_New(0);
    wh_config_gunicorn_t row;
    for (size_t i = 0; rows && wh_config_gunicorn_row(i, &row); i++) {
        PyObject *t = Py_BuildValue("(sssz)", row.gunicorn, row.name, row.kind, row.why);
        if (t == NULL || PyList_Append(rows, t) < 0)
            Py_CLEAR(rows);
        Py_XDECREF(t);
    }
    return rows;
}

/* After load() raised: its message when it is a ConfigError (a reason, no traceback), else
 * the traceback. */
static int load_failed(const char *path, char *err, size_t err_size)
{
    PyObject *config_error = ns_get("ConfigError");
    if (config_error && PyErr_ExceptionMatches(config_error)) {
        PyObject *exc = wh_py_take_exception();
        PyObject *text = PyObject_Str(exc);
        const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
        wh_errorf(err, err_size, "%s", msg ? msg : "cannot read the configuration file");
        Py_XDECREF(text);
        Py_DECREF(exc);
        PyErr_Clear();
        return -1;
    }
    PyErr_Print();
    return wh_errorf(err, err_size,
                     "cannot read the configuration file %s (see the traceback above)", path);
}

int wh_gconf_load(const char *path, const wh_py_options_t *boot, wh_config_t *cfg, char *err,
                  size_t err_size)
{
    if (wh_py_boot(boot) != 0)
        return wh_errorf(err, err_size, "cannot start Python to read %s", path);
    code_ns = PyDict_New();
    PyObject *result = NULL, *fn_emit = NULL, *log = NULL, *rows = NULL;
    if (code_ns == NULL || PyDict_SetItemString(code_ns, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto py_fail;
    PyObject *ran = PyRun_String(wh_py_source_gunicornconf, Py_file_input, code_ns, code_ns);
    if (ran == NULL)
        goto py_fail;
    Py_DECREF(ran);
    PyObject *load = ns_get("load");
    rows = load ? gunicorn_rows() : NULL;
    if (rows == NULL)
        goto py_fail;
    result = PyObject_CallFunction(load, "sO", path, rows);
    Py_CLEAR(rows);
    if (result == NULL)
        return load_failed(path, err, err_size);
    PyObject *options, *warnings, *found_hooks;
    if (!PyArg_ParseTuple(result, "O!O!O!", &PyList_Type, &options, &PyList_Type, &warnings,
                          &PyDict_Type, &found_hooks))
        goto py_fail;
    wh_log(WH_LOG_INFO, "Configuration read from %s", path);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(warnings); i++) {
        const char *w = PyUnicode_AsUTF8(PyList_GET_ITEM(warnings, i));
        if (w)
            wh_log(WH_LOG_WARNING, "%s", w);
        PyErr_Clear();
    }
    if (apply_options(options, cfg, path, err, err_size) != 0) {
        Py_DECREF(result);
        return -1;
    }
    hooks = Py_NewRef(found_hooks);
    fn_emit = PyCFunction_New(&emit_def, NULL);
    PyObject *log_type = ns_get("Log"), *server_type = ns_get("Server");
    log = fn_emit && log_type ? PyObject_CallOneArg(log_type, fn_emit) : NULL;
    server = log && server_type ? PyObject_CallOneArg(server_type, log) : NULL;
    Py_XDECREF(fn_emit);
    Py_XDECREF(log);
    Py_DECREF(result);
    if (server == NULL)
        goto py_fail;
    active = true;
    return 0;
py_fail:
    PyErr_Print();
    Py_XDECREF(rows);
    Py_XDECREF(result);
    return wh_errorf(err, err_size, "cannot read the configuration file %s", path);
}

int wh_gconf_setenv(const char *key, const char *value)
{
    if (!Py_IsInitialized())
        return setenv(key, value, 1);
    /* os.environ is the interpreter's copy: set it there, and it calls putenv. */
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *os = PyImport_ImportModule("os");
    PyObject *environ = os ? PyObject_GetAttrString(os, "environ") : NULL;
    PyObject *v = PyUnicode_DecodeFSDefault(value);
    int rc = environ && v ? PyMapping_SetItemString(environ, key, v) : -1;
    if (rc < 0)
        PyErr_Print();
    Py_XDECREF(v);
    Py_XDECREF(environ);
    Py_XDECREF(os);
    PyGILState_Release(gil);
    return rc;
}

bool wh_gconf_active(void)
{
    return active;
}

enum { VALUE_TEXT_MAX = 2048 };

void wh_gconf_describe(const wh_config_t *cfg)
{
    if (!active)
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    /* [(gunicorn setting, kind, value text)] for every row of the options table that has a
     * gunicorn name and a value: describe() turns them into server.cfg. */
    PyObject *rows = PyList_New(0);
    wh_config_gunicorn_t row;
    char text[VALUE_TEXT_MAX];
    for (size_t i = 0; rows && wh_config_gunicorn_row(i, &row); i++) {
        if (!wh_config_value(cfg, row.name, text, sizeof(text)))
            continue;
        PyObject *t = Py_BuildValue("(sss)", row.gunicorn, row.kind, text);
        if (t == NULL || PyList_Append(rows, t) < 0)
            Py_CLEAR(rows);
        Py_XDECREF(t);
    }
    PyObject *r = rows ? PyObject_CallMethod(server, "describe", "O", rows) : NULL;
    if (r == NULL)
        PyErr_Print();
    Py_XDECREF(r);
    Py_XDECREF(rows);
    PyGILState_Release(gil);
}

static void call_hook(const char *name, PyObject *args)
{
    PyObject *call = ns_get("call");
    PyObject *r = call && args ? PyObject_CallFunction(call, "OsO", hooks, name, args) : NULL;
    if (r == NULL)
        PyErr_Print();
    Py_XDECREF(r);
}

void wh_gconf_server_hook(const char *name)
{
    if (!active)
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (PyDict_GetItemString(hooks, name) != NULL) {
        PyObject *args = Py_BuildValue("(O)", server);
        call_hook(name, args);
        Py_XDECREF(args);
    }
    PyGILState_Release(gil);
}

void wh_gconf_worker_hook(const char *name, long pid, int age)
{
    if (!active)
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (PyDict_GetItemString(hooks, name) != NULL) {
        PyObject *worker_type = ns_get("Worker");
        PyObject *worker =
            worker_type ? PyObject_CallFunction(worker_type, "Oli", server, pid, age) : NULL;
        PyObject *args = NULL;
        if (worker != NULL)
            args = strcmp(name, "post_worker_init") == 0 ? Py_BuildValue("(O)", worker)
                                                         : Py_BuildValue("(OO)", server, worker);
        call_hook(name, args);
        Py_XDECREF(args);
        Py_XDECREF(worker);
    }
    PyGILState_Release(gil);
}

int wh_gconf_finish(void)
{
    if (!active)
        return 0;
    active = false;
    if (!Py_IsInitialized())
        return 0; /* --preload: wh_py_finalize has done it */
    Py_CLEAR(server);
    Py_CLEAR(hooks);
    Py_CLEAR(code_ns);
    return wh_py_release();
}
