/* Django's static and media settings, read once after the app is loaded, so that wsgihost
 * serves STATIC_ROOT at STATIC_URL with no configuration (see pyglue/pyglue.h). */
#include "pyglue/compat.h"
#include "pyglue/pyglue.h"

#include <stdlib.h>
#include <string.h>

/* A setting as a malloc'd C string (str() of it, so Path objects work), or NULL when it is
 * missing, None, empty or cannot be read. */
static char *setting(PyObject *settings, const char *name)
{
    PyObject *value = PyObject_GetAttrString(settings, name);
    if (value == NULL || value == Py_None) {
        PyErr_Clear();
        Py_XDECREF(value);
        return NULL;
    }
    PyObject *text = PyObject_Str(value); /* os.fspath of a Path is its str */
    Py_DECREF(value);
    const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
    char *copy = utf8 && *utf8 ? strdup(utf8) : NULL;
    if (utf8 == NULL)
        PyErr_Clear();
    Py_XDECREF(text);
    return copy;
}

/* A URL setting usable as a local prefix: "/static/" or Django 3.1+'s relative "static/"
 * (made absolute; SCRIPT_NAME is not known here). A full URL (a CDN) is not ours: NULL. */
static char *local_url(char *url)
{
    if (url == NULL)
        return NULL;
    if (strstr(url, "://") != NULL || strncmp(url, "//", 2) == 0) {
        free(url);
        return NULL;
    }
    if (url[0] == '/')
        return url;
    size_t len = strlen(url);
    char *abs = malloc(len + 2);
    if (abs) {
        abs[0] = '/';
        memcpy(abs + 1, url, len + 1);
    }
    free(url);
    return abs;
}

int wh_py_django_paths(wh_django_paths_t *out)
{
    memset(out, 0, sizeof(*out));
    PyGILState_STATE gil = PyGILState_Ensure();
    int found = 0;
    /* Only when the app loaded Django: importing it here would load it into apps without. */
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (PyDict_GetItemString(modules, "django.conf") != NULL) {
        PyObject *conf = PyImport_ImportModule("django.conf");
        PyObject *settings = conf ? PyObject_GetAttrString(conf, "settings") : NULL;
        PyObject *configured = settings ? PyObject_GetAttrString(settings, "configured") : NULL;
        if (configured && PyObject_IsTrue(configured) == 1) {
            found = 1;
            out->static_url = local_url(setting(settings, "STATIC_URL"));
            out->static_root = setting(settings, "STATIC_ROOT");
            out->media_url = local_url(setting(settings, "MEDIA_URL"));
            out->media_root = setting(settings, "MEDIA_ROOT");
        }
        PyErr_Clear(); /* ImproperlyConfigured and the like: not a Django app for us */
        Py_XDECREF(configured);
        Py_XDECREF(settings);
        Py_XDECREF(conf);
    }
    PyGILState_Release(gil);
    return found;
}

void wh_django_paths_free(wh_django_paths_t *p)
{
    free(p->static_url);
    free(p->static_root);
    free(p->media_url);
    free(p->media_root);
    memset(p, 0, sizeof(*p));
}
