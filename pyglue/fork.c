/* Fork support for the master/worker model: CPython's fork hooks, gc.freeze after --preload,
 * and faulthandler stack dumps for the worker timeout. All called with the GIL held by the
 * calling (main) thread, which is the only thread that runs Python in the master. */
#include "pyglue/compat.h"
#include "pyglue/pyglue.h"

const char *wh_py_version(void)
{
    return PY_VERSION;
}

void wh_py_before_fork(void)
{
    PyOS_BeforeFork();
}

void wh_py_after_fork_parent(void)
{
    /* Releases the import lock taken by PyOS_BeforeFork; without it the master deadlocks on
     * its next import. */
    PyOS_AfterFork_Parent();
}

void wh_py_after_fork_child(void)
{
    PyOS_AfterFork_Child();
}

/* Calls module.function(*args) and drops the result; 0 or -1 (exception printed). */
static int call_module(const char *module, const char *function, PyObject *args, PyObject *kwargs)
{
    PyObject *mod = PyImport_ImportModule(module);
    PyObject *fn = mod ? PyObject_GetAttrString(mod, function) : NULL;
    PyObject *result = fn ? PyObject_Call(fn, args, kwargs) : NULL;
    Py_XDECREF(result);
    Py_XDECREF(fn);
    Py_XDECREF(mod);
    if (result == NULL) {
        PyErr_Print();
        return -1;
    }
    return 0;
}

int wh_py_freeze(void)
{
    /* Objects made while importing the app go to the permanent generation: the collector
     * never touches them again, so the pages stay shared between forked workers. */
    PyObject *args = PyTuple_New(0);
    if (args == NULL)
        return -1;
    int rc = call_module("gc", "freeze", args, NULL);
    Py_DECREF(args);
    return rc;
}

int wh_py_dump_stacks_on(int signum, int fd)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *args = Py_BuildValue("(i)", signum);
    PyObject *kwargs =
        Py_BuildValue("{s:i,s:O,s:O}", "file", fd, "all_threads", Py_True, "chain", Py_False);
    int rc = args && kwargs ? call_module("faulthandler", "register", args, kwargs) : -1;
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    PyGILState_Release(gil);
    return rc;
}
