/* The one place for differences between the CPython versions wsgihost builds against (3.10 to
 * 3.13). Every pyglue file includes Python.h through this header. */
#ifndef WSGIHOST_PYGLUE_COMPAT_H
#define WSGIHOST_PYGLUE_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030A0000
#error "wsgihost needs Python 3.10 or newer"
#endif

/* Takes the pending exception as one normalised object with its traceback attached (a new
 * reference), clearing the error indicator; NULL when none is pending. PyErr_Fetch is
 * deprecated from 3.12, where PyErr_GetRaisedException replaces it. */
static inline PyObject *wh_py_take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        value = type; /* normalisation failed badly: report the type itself */
        type = NULL;
    } else if (tb != NULL && PyExceptionInstance_Check(value)) {
        if (PyException_SetTraceback(value, tb) < 0)
            PyErr_Clear();
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Looks up an attribute that may be missing: 1 and a new reference in *out when present, 0
 * and NULL when absent, -1 and NULL on another error (PyObject_GetOptionalAttrString is 3.13+). */
static inline int wh_py_getattr_optional(PyObject *obj, const char *name, PyObject **out)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyObject_GetOptionalAttrString(obj, name, out);
#else
    *out = PyObject_GetAttrString(obj, name);
    if (*out != NULL)
        return 1;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();
    return 0;
#endif
}

/* Raises the exception of an exc_info triple (type, value, traceback), all borrowed. */
static inline void wh_py_raise_exc_info(PyObject *type, PyObject *value, PyObject *tb)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PyExceptionInstance_Check(value)) {
        if (tb != Py_None && PyException_SetTraceback(value, tb) < 0)
            return; /* that error is raised instead */
        PyErr_SetRaisedException(Py_NewRef(value));
        return;
    }
#endif
    PyErr_Restore(Py_NewRef(type), Py_NewRef(value), tb == Py_None ? NULL : Py_NewRef(tb));
}

#endif
