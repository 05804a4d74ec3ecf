/* --reload's Python side (see pyglue/reloadpy.h). */
#include "pyglue/reloadpy.h"

#include <stdlib.h>
#include <string.h>

#include "pyglue/compat.h"
#include "pyglue/embedded.h"

int wh_py_module_dirs(char ***dirs, size_t *count)
{
    *dirs = NULL;
    *count = 0;
    PyObject *ns = PyDict_New();
    PyObject *list = NULL;
    if (ns != NULL && PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0) {
        PyObject *ran = PyRun_String(wh_py_source_reloadpy, Py_file_input, ns, ns);
        PyObject *fn = ran ? PyDict_GetItemString(ns, "module_dirs") : NULL;
        Py_XDECREF(ran);
        list = fn ? PyObject_CallNoArgs(fn) : NULL;
    }
    Py_XDECREF(ns);
    if (list == NULL || !PyList_Check(list)) {
        PyErr_Print();
        Py_XDECREF(list);
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    char **out = calloc((size_t)n + 1, sizeof(*out));
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *bytes = PyUnicode_EncodeFSDefault(PyList_GET_ITEM(list, i));
        if (bytes == NULL) {
            PyErr_Clear();
            continue;
        }
        out[*count] = strdup(PyBytes_AS_STRING(bytes));
        Py_DECREF(bytes);
        if (out[*count])
            (*count)++;
    }
    Py_DECREF(list);
    if (out == NULL)
        return -1;
    *dirs = out;
    return 0;
}

void wh_py_module_dirs_free(char **dirs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(dirs[i]);
    free(dirs);
}
