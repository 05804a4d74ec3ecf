/* The pip build's server as an extension module, `wsgihost_core` (cmake/wheel.cmake builds
 * lib/wsgihost/wsgihost-core.so with it): cmd/hosted.py imports it into a running `python` and
 * calls main(argv), so that wsgihost runs on the very interpreter `python` is. The launcher
 * (cmd/launcher.c) does so where that interpreter has no libpython of its own build to load
 * (Debian's /usr/bin/python3 links the interpreter statically, with LTO; its libpython3.X.so is
 * a separate, slower build). What hosted changes is in pyglue/pyglue.h. */
#include "pyglue/compat.h"
#include "pyglue/pyglue.h"

#include <limits.h>

/* cmd/main.c's main, renamed in the library (cmake/wheel.cmake). */
int wh_core_main(int argc, char **argv);

PyMODINIT_FUNC PyInit_wsgihost_core(void);

/* main(argv: list[str]) -> int: the program's exit status. argv[0] is the launcher's path
 * (what --migrate runs again); the rest, wsgihost's arguments. Called with the GIL held, and
 * returns with it held: wsgihost's master runs on this thread, its workers are forked from it
 * and never return here. */
static PyObject *hosted_main(PyObject *module, PyObject *args)
{
    (void)module;
    if (!PyList_Check(args) || PyList_GET_SIZE(args) < 1 || PyList_GET_SIZE(args) >= INT_MAX) {
        PyErr_SetString(PyExc_TypeError, "main() takes a non-empty list of arguments");
        return NULL;
    }
    Py_ssize_t argc = PyList_GET_SIZE(args);
    /* Encoded back to the C strings the process was given (str, bytes or path-like). */
    PyObject *encoded = PyList_New(argc);
    char **argv = encoded != NULL ? PyMem_RawCalloc((size_t)argc + 1, sizeof(char *)) : NULL;
    if (argv == NULL) {
        Py_XDECREF(encoded);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < argc; i++) {
        PyObject *bytes = NULL;
        if (!PyUnicode_FSConverter(PyList_GET_ITEM(args, i), &bytes)) {
            PyMem_RawFree(argv);
            Py_DECREF(encoded);
            return NULL;
        }
        argv[i] = PyBytes_AS_STRING(bytes);
        PyList_SET_ITEM(encoded, i, bytes);
    }
    wh_py_set_hosted();
    int status = wh_core_main((int)argc, argv);
    PyMem_RawFree(argv);
    Py_DECREF(encoded);
    return PyLong_FromLong(status);
}

static PyMethodDef hosted_methods[] = {
    {"main", hosted_main, METH_O, "Runs wsgihost with argv; returns its exit status."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hosted_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wsgihost_core",
    .m_doc = "wsgihost's server, run inside this interpreter.",
    .m_size = -1,
    .m_methods = hosted_methods,
};

PyMODINIT_FUNC PyInit_wsgihost_core(void)
{
    return PyModule_Create(&hosted_module);
}
