/* Django's static and media settings, read once after the app is loaded, so that wsgihost
 * serves STATIC_ROOT at STATIC_URL with no configuration (see pyglue/pyglue.h). */
#include "pyglue/compat.h"
#include "pyglue/embedded.h"
#include "pyglue/pyglue.h"
#include "server/core/log.h"

#include <stdlib.h>
#include <string.h>

/* A setting (or any attribute) as a malloc'd C string (str() of it, so Path objects work), or NULL
 * when it is missing, None, empty or cannot be read. */
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

/* 1 when obj is an instance of module.name, 0 when not or when that cannot be told. */
static int is_instance(PyObject *obj, const char *module, const char *name)
{
    PyObject *mod = PyImport_ImportModule(module);
    PyObject *cls = mod ? PyObject_GetAttrString(mod, name) : NULL;
    int yes = cls ? PyObject_IsInstance(obj, cls) : -1;
    Py_XDECREF(cls);
    Py_XDECREF(mod);
    if (yes < 0) {
        PyErr_Clear();
        return 0;
    }
    return yes;
}

/* The storage collectstatic writes to (STORAGES["staticfiles"] on Django >= 4.2,
 * STATICFILES_STORAGE before; a subclass or OPTIONS may move its location and rename its
 * manifest): where it keeps the files on this machine, its URL and its manifest's path.
 * Returns 1 when it is a local FileSystemStorage (fields set), 0 otherwise (say, a cloud
 * storage): the settings then tell. */
static int static_storage(char **root, char **url, char **manifest)
{
    PyObject *mod = PyImport_ImportModule("django.contrib.staticfiles.storage");
    PyObject *storage = mod ? PyObject_GetAttrString(mod, "staticfiles_storage") : NULL;
    Py_XDECREF(mod);
    int local = storage && is_instance(storage, "django.core.files.storage", "FileSystemStorage");
    if (local) {
        *root = setting(storage, "location");
        *url = setting(storage, "base_url");
    }
    if (local && is_instance(storage, "django.contrib.staticfiles.storage", "ManifestFilesMixin")) {
        /* Django >= 4.2 may keep the manifest in another storage (manifest_storage). */
        PyObject *where = PyObject_GetAttrString(storage, "manifest_storage");
        if (where == NULL) {
            PyErr_Clear();
            where = Py_NewRef(storage);
        }
        PyObject *name = PyObject_GetAttrString(storage, "manifest_name");
        PyObject *path = name ? PyObject_CallMethod(where, "path", "O", name) : NULL;
        Py_XDECREF(name);
        Py_DECREF(where);
        const char *utf8 = path && PyUnicode_Check(path) ? PyUnicode_AsUTF8(path) : NULL;
        *manifest = utf8 ? strdup(utf8) : NULL;
        Py_XDECREF(path);
    }
    PyErr_Clear(); /* ImproperlyConfigured, an import error: the settings then tell */
    Py_XDECREF(storage);
    return local;
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
            if (static_storage(&out->static_root, &out->static_url, &out->manifest) != 1 ||
                out->static_root == NULL || out->static_url == NULL) {
                wh_django_paths_free(out);
                out->static_url = setting(settings, "STATIC_URL");
                out->static_root = setting(settings, "STATIC_ROOT");
            }
            out->static_url = local_url(out->static_url);
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
    free(p->manifest);
    memset(p, 0, sizeof(*p));
}

void wh_py_preload_warm(void)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *ns = PyDict_New();
    PyObject *done = NULL;
    if (ns != NULL && PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0) {
        PyObject *ran = PyRun_String(wh_py_source_preload, Py_file_input, ns, ns);
        PyObject *fn = ran ? PyDict_GetItemString(ns, "warm") : NULL; /* borrowed */
        Py_XDECREF(ran);
        done = fn ? PyObject_CallNoArgs(fn) : NULL;
    }
    if (done == NULL) {
        wh_log(WH_LOG_WARNING, "--preload: warming the app's caches failed; workers build "
                               "their own on first use");
        PyErr_Print();
    } else if (done != Py_None) {
        const char *text = PyUnicode_AsUTF8(done);
        if (text != NULL)
            wh_log(WH_LOG_INFO, "--preload: warmed Django before forking: %s", text);
        PyErr_Clear();
    }
    Py_XDECREF(done);
    Py_XDECREF(ns);
    PyGILState_Release(gil);
}
