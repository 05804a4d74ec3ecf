/* The Python sources of pyglue/py/, compiled in by CMake (cmake/embed.cmake) as NUL-terminated
 * strings: each runs once with PyRun_String in a fresh namespace. */
#ifndef WSGIHOST_EMBEDDED_H
#define WSGIHOST_EMBEDDED_H

extern const char wh_py_source_appload[];      /* pyglue/py/appload.py */
extern const char wh_py_source_gunicornconf[]; /* pyglue/py/gunicornconf.py */
extern const char wh_py_source_manage[];       /* pyglue/py/manage.py */
extern const char wh_py_source_preload[];      /* pyglue/py/preload.py */
extern const char wh_py_source_reloadpy[];     /* pyglue/py/reloadpy.py */

#endif
