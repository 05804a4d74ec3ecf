/* `wsgihost manage ARGS...`: Django's management command line (django-admin / manage.py) in
 * the embedded interpreter, started the way serving starts it (virtualenv, sys.path), so
 * `docker exec -it web wsgihost manage createsuperuser` works in an image with no shell and no
 * python executable. The standard streams and the terminal are the process's own. */
#include "pyglue/compat.h"
#include "pyglue/embedded.h"
#include "pyglue/pyglue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_FAILURE_PY = 1, EXIT_USAGE = 2 };
/* What `python` exits with when flushing the streams at exit fails. */
enum { EXIT_FINALIZE_FAILED = 120 };
/* Longest module name we take from --app. */
enum { MODULE_MAX = 1024 };

/* The module part of "module[:callable]", or "" when the settings come from the environment. */
static int app_module(const wh_py_options_t *opts, char *out, size_t cap)
{
    out[0] = '\0';
    const char *settings = getenv("DJANGO_SETTINGS_MODULE");
    if (settings != NULL && settings[0] != '\0')
        return 0;
    if (opts->app_spec == NULL || opts->app_spec[0] == '\0') {
        fprintf(stderr, "wsgihost manage: no Django settings: set DJANGO_SETTINGS_MODULE, or "
                        "give the app (--app MODULE or WSGIHOST_APP) whose module sets it\n");
        return -1;
    }
    size_t len = strcspn(opts->app_spec, ":");
    if (len == 0 || len >= cap) {
        fprintf(stderr, "wsgihost manage: invalid app '%s'\n", opts->app_spec);
        return -1;
    }
    memcpy(out, opts->app_spec, len);
    out[len] = '\0';
    return 0;
}

/* ["manage.py", args...]: Django's help text names the program after argv[0]. */
static PyObject *make_argv(int argc, char **argv)
{
    PyObject *list = PyList_New(0);
    PyObject *prog = PyUnicode_FromString("manage.py");
    if (list == NULL || prog == NULL || PyList_Append(list, prog) < 0)
        goto fail;
    Py_CLEAR(prog);
    for (int i = 0; i < argc; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(argv[i]);
        int rc = s ? PyList_Append(list, s) : -1;
        Py_XDECREF(s);
        if (rc < 0)
            goto fail;
    }
    return list;
fail:
    Py_XDECREF(prog);
    Py_XDECREF(list);
    return NULL;
}

/* Runs pyglue/py/manage.py's run(module, argv); the exit status. */
static int run(const char *module, int argc, char **argv)
{
    PyObject *globals = PyDict_New();
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *code = NULL, *fn = NULL, *args = NULL, *result = NULL;
    int status = EXIT_FAILURE_PY;
    if (globals == NULL || PyDict_SetItemString(globals, "__builtins__", builtins) < 0)
        goto out;
    code = PyRun_String(wh_py_source_manage, Py_file_input, globals, globals);
    fn = code ? PyDict_GetItemString(globals, "run") : NULL; /* borrowed */
    PyObject *py_argv = fn ? make_argv(argc, argv) : NULL;
    args = py_argv ? Py_BuildValue("(sN)", module, py_argv) : NULL;
    result = args ? PyObject_CallObject(fn, args) : NULL;
    if (result != NULL) {
        long n = PyLong_AsLong(result);
        status = n == -1 && PyErr_Occurred() ? EXIT_FAILURE_PY : (int)n;
    }
out:
    if (PyErr_Occurred())
        PyErr_Print(); /* only our own plumbing can fail here, not the command */
    Py_XDECREF(result);
    Py_XDECREF(args);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    return status;
}

int wh_py_manage(const wh_py_options_t *opts, int argc, char **argv)
{
    char module[MODULE_MAX];
    if (app_module(opts, module, sizeof(module)) != 0)
        return EXIT_USAGE;
    if (wh_py_boot(opts) < 0)
        return EXIT_FAILURE_PY;
    int status = run(module, argc, argv);
    if (wh_py_release() < 0 && status == 0)
        status = EXIT_FINALIZE_FAILED;
    return status;
}

int wh_py_close_db_connections(void)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    int rc = 0;
    /* Only when the app loaded Django's database layer: importing it here would connect
     * nothing but would load Django into apps that do not use it. */
    if (PyDict_GetItemString(modules, "django.db") != NULL) {
        PyObject *db = PyImport_ImportModule("django.db");
        PyObject *conns = db ? PyObject_GetAttrString(db, "connections") : NULL;
        PyObject *r = conns ? PyObject_CallMethod(conns, "close_all", NULL) : NULL;
        if (r == NULL) {
            PyErr_Print();
            rc = -1;
        }
        Py_XDECREF(r);
        Py_XDECREF(conns);
        Py_XDECREF(db);
    }
    PyGILState_Release(gil);
    return rc;
}
