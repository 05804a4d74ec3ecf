/* Which Python installation wsgihost runs with, decided from where the program is installed,
 * the way `python` itself decides it. No Python API here: the pip build's launcher
 * (cmd/launcher.c) uses it to find libpython before loading it.
 *
 *   wh_pyvenv_read     the version and home a virtualenv's pyvenv.cfg records
 *   wh_pyhome_locate   the interpreter for a program at a given path */
#ifndef WSGIHOST_PYHOME_H
#define WSGIHOST_PYHOME_H

#include <limits.h>
#include <stddef.h>

typedef struct {
    char venv[PATH_MAX];       /* the virtualenv's root; "" when not in one */
    char home[PATH_MAX];       /* pyvenv.cfg's home: the base interpreter's bin/ ("" if none) */
    char executable[PATH_MAX]; /* the interpreter: PyConfig's program_name */
    int major, minor;          /* the virtualenv's Python version; 0 when pyvenv.cfg has none */
} wh_pyhome_t;

/* Reads cfg_path (a pyvenv.cfg): the version ("version = 3.11.2" from `python -m venv`,
 * "version_info = 3.11.2.final.0" from virtualenv) and the home directory (home may be NULL).
 * 1 when a version was found, 0 when not, -1 when the file cannot be read (errno set). */
int wh_pyvenv_read(const char *cfg_path, int *major, int *minor, char *home, size_t home_cap);

/* The interpreter for the program at self (a real path, /proc/self/exe): when self's directory
 * has ../pyvenv.cfg, that virtualenv and its bin/python (as venv/bin/python finds its venv);
 * else `fallback` when not empty; else python3.X beside self when there is one (an install into
 * the interpreter's own prefix); else the bare name python3.X, which Python looks up on PATH.
 * `versioned` is "python3.X" for the Python wsgihost was built for. 0, or -1 when a path does
 * not fit (out->executable then holds the offending path). */
int wh_pyhome_locate(const char *self, const char *fallback, const char *versioned,
                     wh_pyhome_t *out);

#endif
