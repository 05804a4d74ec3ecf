/* --reload's Python side: which directories the app's modules were loaded from. */
#ifndef WSGIHOST_RELOADPY_H
#define WSGIHOST_RELOADPY_H

#include <stddef.h>

/* After the app is imported, with the GIL held (before wh_py_start): the directories of the
 * files of every loaded module, real paths, sorted, leaving out the standard library and
 * site-/dist-packages (code that changes while developing is the app's). *dirs is a
 * malloc'ed array of malloc'ed strings (free with wh_py_module_dirs_free). 0 or -1. */
int wh_py_module_dirs(char ***dirs, size_t *count);
void wh_py_module_dirs_free(char **dirs, size_t count);

#endif
