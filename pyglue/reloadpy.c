/* --reload's Python side (see pyglue/reloadpy.h). */
#include "pyglue/reloadpy.h"

#include <stdlib.h>
#include <string.h>

#include "pyglue/compat.h"

static const char SOURCE[] =
    "def module_dirs():\n"
    "    import os, sys, sysconfig\n"
    "    skip = set()\n"
    "    paths = sysconfig.get_paths()\n"
    "    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):\n"
    "        if paths.get(key):\n"
    "            skip.add(os.path.realpath(paths[key]))\n"
    "    for p in sys.path:\n"
    "        if p and os.path.basename(p.rstrip('/')) in ('site-packages', 'dist-packages'):\n"
    "            skip.add(os.path.realpath(p))\n"
    "    out = set()\n"
    "    for module in list(sys.modules.values()):\n"
    "        f = getattr(module, '__file__', None)\n"
    "        if not isinstance(f, str) or not f:\n"
    "            continue\n"
    "        d = os.path.dirname(os.path.realpath(f))\n"
    "        if any(d == s or d.startswith(s + os.sep) for s in skip):\n"
    "            continue\n"
    "        if os.path.isdir(d):\n"
    "            out.add(d)\n"
    "    return sorted(out)\n";

int wh_py_module_dirs(char ***dirs, size_t *count)
{
    *dirs = NULL;
    *count = 0;
    PyObject *ns = PyDict_New();
    PyObject *list = NULL;
    if (ns != NULL && PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0) {
        PyObject *ran = PyRun_String(SOURCE, Py_file_input, ns, ns);
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
