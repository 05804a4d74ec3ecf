/* The interpreter's lifecycle (the API of pyglue/pyglue.h): start CPython the way `python`
 * starts (PyConfig_InitPythonConfig: PYTHON* variables, site, sitecustomize), with a real
 * sys.executable so getpath finds the stdlib or a virtualenv's pyvenv.cfg exactly as that
 * interpreter would; set sys.path like gunicorn; import the app; run the runners; finalize. */
#include "pyglue/pyglue.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyglue/compat.h"
#include "pyglue/embedded.h"
#include "pyglue/environ.h"
#include "pyglue/errors.h"
#include "pyglue/filewrapper.h"
#include "pyglue/input.h"
#include "pyglue/pyhome.h"
#include "pyglue/wsgi.h"

#ifndef WSGIHOST_PYTHON_EXECUTABLE
#error "WSGIHOST_PYTHON_EXECUTABLE (the embedded Python's real path) must be defined"
#endif

static bool initialized;
static bool hosted; /* wh_py_set_hosted: the interpreter is the host process's */
static int runner_threads;
static PyThreadState *main_state;        /* saved while the runners own the GIL */
static char chosen_executable[PATH_MAX]; /* wh_py_set_executable's, "" when not called */

/* ---- virtualenv ----------------------------------------------------------------------- */

/* Checks that dir is a virtualenv for this Python and writes its interpreter path to exe. */
static int check_virtualenv(const char *dir, char *exe, size_t cap)
{
    char cfg[PATH_MAX];
    int n1 = snprintf(exe, cap, "%s/bin/python", dir);
    int n2 = snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", dir);
    if (n1 < 0 || (size_t)n1 >= cap || n2 < 0 || (size_t)n2 >= sizeof(cfg)) {
        fprintf(stderr, "wsgihost: virtualenv path too long: %s\n", dir);
        return -1;
    }
    int major = 0, minor = 0;
    int found = wh_pyvenv_read(cfg, &major, &minor, NULL, 0);
    if (found < 0) {
        fprintf(stderr,
                "wsgihost: %s is not a virtualenv (cannot read %s: %s); create one with "
                "`python%d.%d -m venv %s`\n",
                dir, cfg, strerror(errno), PY_MAJOR_VERSION, PY_MINOR_VERSION, dir);
        return -1;
    }
    if (found && (major != PY_MAJOR_VERSION || minor != PY_MINOR_VERSION)) {
        fprintf(stderr,
                "wsgihost: virtualenv %s is for Python %d.%d but wsgihost embeds Python %d.%d; "
                "recreate it with `python%d.%d -m venv %s` or use a wsgihost built for %d.%d\n",
                dir, major, minor, PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MAJOR_VERSION,
                PY_MINOR_VERSION, dir, major, minor);
        return -1;
    }
    if (access(exe, X_OK) != 0) {
        fprintf(stderr,
                "wsgihost: virtualenv %s has no usable bin/python (%s); recreate it with "
                "`python%d.%d -m venv %s`\n",
                dir, strerror(errno), PY_MAJOR_VERSION, PY_MINOR_VERSION, dir);
        return -1;
    }
    return 0;
}

/* ---- interpreter ---------------------------------------------------------------------- */

static void print_status(const char *what, PyStatus st)
{
    fprintf(stderr, "wsgihost: %s: %s%s%s\n", what, st.func ? st.func : "", st.func ? ": " : "",
            st.err_msg ? st.err_msg : "unknown error");
}

/* `executable` as program_name: getpath derives sys.executable, the prefixes and (through a
 * pyvenv.cfg beside it) the virtualenv from it, as for that interpreter run directly. */
static int start_interpreter(const char *executable)
{
    static char argv0[] = "wsgihost";
    char *argv[] = {argv0};
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* the server owns signals */
    config.parse_argv = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, executable);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesArgv(&config, 1, argv);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        print_status("cannot start Python", st);
        return -1;
    }
    return 0;
}

/* Inserts a filesystem path at sys.path[0]. */
static int path_insert_front(PyObject *sys_path, const char *dir)
{
    PyObject *s = PyUnicode_DecodeFSDefault(dir);
    if (s == NULL)
        return -1;
    int rc = PyList_Insert(sys_path, 0, s);
    Py_DECREF(s);
    return rc;
}

/* sys.path gets, in front: the --pythonpath entries in order, then the working directory
 * (gunicorn's order; main has already applied --chdir). */
static int setup_sys_path(const wh_py_options_t *opts)
{
    PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
    if (sys_path == NULL || !PyList_Check(sys_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (path_insert_front(sys_path, cwd) < 0)
        return -1;
    for (size_t i = opts->pythonpath_count; i > 0; i--) {
        if (path_insert_front(sys_path, opts->pythonpath[i - 1]) < 0)
            return -1;
    }
    return 0;
}

/* Imports "module[:callable]" and returns the callable (pyglue/py/appload.py: dotted names
 * and factory calls, as gunicorn). On failure prints one line saying why (after the app's
 * traceback when it raised) and returns NULL. */
static PyObject *load_app(const char *spec)
{
    PyObject *ns = PyDict_New(), *app = NULL;
    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto py_fail;
    PyObject *ran = PyRun_String(wh_py_source_appload, Py_file_input, ns, ns);
    if (ran == NULL)
        goto py_fail;
    Py_DECREF(ran);
    PyObject *load = PyDict_GetItemString(ns, "load"); /* borrowed */
    PyObject *app_error = PyDict_GetItemString(ns, "AppError");
    if (load == NULL || app_error == NULL)
        goto py_fail;
    app = PyObject_CallFunction(load, "s", spec);
    if (app == NULL && PyErr_ExceptionMatches(app_error)) {
        PyObject *exc = wh_py_take_exception();
        PyObject *text = exc ? PyObject_Str(exc) : NULL;
        const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
        fprintf(stderr, "wsgihost: %s\n", msg ? msg : "cannot load the app");
        PyErr_Clear();
        Py_XDECREF(text);
        Py_XDECREF(exc);
        Py_DECREF(ns);
        return NULL;
    }
    if (app != NULL) {
        Py_DECREF(ns);
        return app;
    }
py_fail:
    wh_errors_print_exception();
    fprintf(stderr, "wsgihost: cannot load --app '%s' (see traceback above)\n", spec);
    Py_XDECREF(ns);
    return NULL;
}

void wh_py_set_executable(const char *path)
{
    if ((size_t)snprintf(chosen_executable, sizeof(chosen_executable), "%s", path) >=
        sizeof(chosen_executable))
        chosen_executable[0] = '\0'; /* the launcher checked the length: not reached */
}

/* The virtualenv to run in (the one given, else the one this program is installed in, if any;
 * NULL when none) and, when there is none, the interpreter to start. */
static const char *pick_virtualenv(const char *virtualenv, wh_pyhome_t *home,
                                   const char **executable)
{
    *executable = chosen_executable;
    if (virtualenv != NULL && virtualenv[0] != '\0')
        return virtualenv;
    if (chosen_executable[0] != '\0') /* the launcher checked its virtualenv */
        return NULL;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char versioned[sizeof("python") + 16];
    snprintf(versioned, sizeof(versioned), "python%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
    if (wh_pyhome_locate(self, WSGIHOST_PYTHON_EXECUTABLE, versioned, home) != 0) {
        /* too long to be a virtualenv's bin/: the built-in interpreter */
        *executable = WSGIHOST_PYTHON_EXECUTABLE;
        return NULL;
    }
    *executable = home->executable;
    return home->venv[0] != '\0' ? home->venv : NULL;
}

/* Hosted, the interpreter has chosen its virtualenv (sys.prefix) before wsgihost ran: another
 * one can only be a mistake. */
static int check_hosted_virtualenv(const char *virtualenv)
{
    if (virtualenv == NULL || virtualenv[0] == '\0')
        return 0;
    PyObject *prefix = PySys_GetObject("prefix"); /* borrowed */
    PyObject *encoded = prefix != NULL ? PyUnicode_EncodeFSDefault(prefix) : NULL;
    char wanted[PATH_MAX], running[PATH_MAX];
    bool same = encoded != NULL && realpath(virtualenv, wanted) != NULL &&
                realpath(PyBytes_AS_STRING(encoded), running) != NULL &&
                strcmp(wanted, running) == 0;
    PyErr_Clear();
    if (!same)
        fprintf(stderr,
                "wsgihost: --virtualenv %s: this wsgihost runs inside the Python of %s; to serve "
                "from %s, install wsgihost there and run its bin/wsgihost\n",
                virtualenv, encoded != NULL ? PyBytes_AS_STRING(encoded) : "another prefix",
                virtualenv);
    Py_XDECREF(encoded);
    return same ? 0 : -1;
}

int wh_py_check_virtualenv(const char *virtualenv)
{
    if (hosted)
        return check_hosted_virtualenv(virtualenv);
    wh_pyhome_t home;
    const char *executable;
    char venv_python[PATH_MAX];
    const char *venv = pick_virtualenv(virtualenv, &home, &executable);
    return venv != NULL ? check_virtualenv(venv, venv_python, sizeof(venv_python)) : 0;
}

/* Starts CPython in the virtualenv pick_virtualenv gives, if any; imports nothing. */
static int boot(const wh_py_options_t *opts)
{
    /* A worker forked from a master that runs Python for a gunicorn config file (-c,
     * pyglue/gunicornconf.h) has it already: the app is imported into that one. */
    if (Py_IsInitialized())
        return 0;
    char venv_python[PATH_MAX];
    wh_pyhome_t home;
    const char *executable;
    const char *venv = pick_virtualenv(opts->virtualenv, &home, &executable);
    if (venv != NULL) {
        if (check_virtualenv(venv, venv_python, sizeof(venv_python)) < 0)
            return -1;
        executable = venv_python;
    }
    return start_interpreter(executable);
}

int wh_py_boot(const wh_py_options_t *opts)
{
    if (boot(opts) < 0)
        return -1;
    if (setup_sys_path(opts) < 0) {
        PyErr_Print();
        (void)wh_py_release(); /* failing anyway: its status adds nothing */
        return -1;
    }
    return 0;
}

int wh_py_init(const wh_py_options_t *opts)
{
    if (boot(opts) < 0)
        return -1;
    initialized = true;
    runner_threads = opts->threads;

    if (wh_errors_init() < 0 || wh_input_init() < 0 || wh_filewrapper_init() < 0 ||
        wh_environ_init(runner_threads > 1, opts->multiprocess) < 0 || setup_sys_path(opts) < 0) {
        wh_errors_print_exception();
        fprintf(stderr, "wsgihost: cannot set up Python (see traceback above)\n");
        goto fail;
    }
    PyObject *app = load_app(opts->app_spec);
    if (app == NULL)
        goto fail;
    int rc = wh_wsgi_init(app);
    Py_DECREF(app);
    if (rc < 0) {
        wh_errors_print_exception();
        goto fail;
    }
    return 0;
fail:
    (void)wh_py_finalize(false);
    return -1;
}

int wh_py_start(wh_jobq_t *queue)
{
    int rc = wh_wsgi_start(queue, runner_threads);
    /* From here the main thread runs Python only in wh_py_run_here (threads 0, the loop runs
     * the app) until wh_py_finalize. */
    main_state = PyEval_SaveThread();
    return rc;
}

void wh_py_run_here(wh_exchange_t *ex)
{
    PyEval_RestoreThread(main_state);
    wh_wsgi_run_here(ex);
    main_state = PyEval_SaveThread();
}

void wh_py_join(void)
{
    wh_wsgi_join();
}

int wh_py_skip_bytecode_cache(void)
{
    if (setenv("PYTHONDONTWRITEBYTECODE", "1", 1) != 0)
        return -1;
    if (!Py_IsInitialized())
        return 0;
    /* Started already (hosted, or for a config file): the variable was read at its start. */
    PyGILState_STATE gil = PyGILState_Ensure();
    int rc = PySys_SetObject("dont_write_bytecode", Py_True);
    if (rc < 0)
        PyErr_Clear();
    PyGILState_Release(gil);
    return rc;
}

void wh_py_set_hosted(void)
{
    hosted = true;
}

bool wh_py_hosted(void)
{
    return hosted;
}

int wh_py_release(void)
{
    return hosted ? 0 : Py_FinalizeEx();
}

int wh_py_finalize(bool process_exits)
{
    if (!initialized)
        return 0;
    if (main_state != NULL) {
        PyEval_RestoreThread(main_state);
        main_state = NULL;
    }
    wh_wsgi_fini();
    wh_environ_fini();
    wh_errors_fini();
    initialized = false;
    /* Hosted, a worker finalizes the host's interpreter too (atexit handlers, buffered
     * output) since it never returns to it; any other caller does return to it. */
    return process_exits ? Py_FinalizeEx() : wh_py_release();
}
