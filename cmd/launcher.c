/* The `wsgihost` of the pip build: a program linked with libc alone, so that it starts whatever
 * the machine's loader path holds. It finds the Python it runs with as that Python would
 * (pyglue/pyhome.h: the virtualenv it is installed in, else the interpreter beside it) and
 * checks the version. Then, when that interpreter is an --enable-shared build, it loads its
 * libpython and the server (the rest of wsgihost, a shared library beside it: lib/wsgihost/)
 * and runs it; /proc/self/exe stays this program, so re-running it (`--migrate`'s child) goes
 * through here again. Otherwise (Debian's python3 is linked statically: the libpython3.X.so of
 * its libpython3.X package is a different, slower build) it runs the interpreter itself, which
 * imports the server as an extension module (cmd/hosted.py, pyglue/hosted.c): wsgihost then
 * runs on exactly the interpreter `python` is, and tells --migrate to run this program. Where
 * there is no interpreter to run at all (an image that carries libpython and the stdlib only)
 * it loads the libpython the loader finds, as in the first case. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyglue/pyhome.h"

#if !defined(WSGIHOST_PY_MAJOR) || !defined(WSGIHOST_PY_MINOR) || !defined(WSGIHOST_LIBDIR)
#error "WSGIHOST_PY_MAJOR, WSGIHOST_PY_MINOR and WSGIHOST_LIBDIR must be defined"
#endif

#define STR2(x) #x
#define STR(x) STR2(x)
#define PY_VERSION_TEXT STR(WSGIHOST_PY_MAJOR) "." STR(WSGIHOST_PY_MINOR)
/* CPython's soname for a --enable-shared build. */
#define LIBPYTHON "libpython" PY_VERSION_TEXT ".so.1.0"
/* In WSGIHOST_LIBDIR (relative to this program's directory): the server, and the script that
 * runs it inside the interpreter (cmake/wheel.cmake installs both). */
#define CORE "wsgihost-core.so"
#define HOSTED_SCRIPT "hosted.py"

/* The wrong Python for this build; a library that cannot be loaded (the master's boot error). */
enum { EXIT_WRONG_PYTHON = 2, EXIT_CANNOT_LOAD = 3 };

/* dir(path)/rel into out; -1 when it does not fit. */
static int beside(const char *path, const char *rel, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path) : 0;
    int n = snprintf(out, cap, "%.*s/%s", dir_len, path, rel);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* The libpython of the interpreter's own build, when it has one: in the lib/ directory of the
 * virtualenv's base interpreter, else of the interpreter's real location (an --enable-shared
 * build: the python:3.X images, pyenv's). Writes its path to out; 0 when there is none. */
static int find_libpython(const wh_pyhome_t *py, char *out)
{
    char candidates[2][PATH_MAX];
    size_t count = 0;
    if (py->home[0] != '\0' &&
        snprintf(candidates[count], PATH_MAX, "%s/../lib/%s", py->home, LIBPYTHON) < PATH_MAX)
        count++;
    char real[PATH_MAX];
    if (strchr(py->executable, '/') != NULL && realpath(py->executable, real) != NULL &&
        beside(real, "../lib/" LIBPYTHON, candidates[count], PATH_MAX) == 0)
        count++;
    for (size_t i = 0; i < count; i++) {
        if (access(candidates[i], R_OK) == 0) {
            memcpy(out, candidates[i], PATH_MAX);
            return 1;
        }
    }
    return 0;
}

/* Loads libpython globally (extension modules resolve the C API from it), then the server,
 * and runs it. */
static int run_embedded(const wh_pyhome_t *py, const char *libpython, const char *self, int argc,
                        char **argv)
{
    if (dlopen(libpython, RTLD_NOW | RTLD_GLOBAL) == NULL) {
        fprintf(stderr, "wsgihost: cannot load %s for %s (%s): reinstall that Python\n", libpython,
                py->executable, dlerror());
        return EXIT_CANNOT_LOAD;
    }
    char core_path[PATH_MAX];
    if (beside(self, WSGIHOST_LIBDIR "/" CORE, core_path, sizeof(core_path)) != 0) {
        fprintf(stderr, "wsgihost: path too long: %s\n", self);
        return EXIT_CANNOT_LOAD;
    }
    /* Local: the server's own libuv, zlib and brotli stay out of extension modules' way. */
    void *core = dlopen(core_path, RTLD_NOW | RTLD_LOCAL);
    void (*set_executable)(const char *) = NULL;
    int (*core_main)(int, char **) = NULL;
    if (core != NULL) {
        *(void **)&set_executable = dlsym(core, "wh_py_set_executable");
        *(void **)&core_main = dlsym(core, "wh_core_main");
    }
    if (set_executable == NULL || core_main == NULL) {
        fprintf(stderr, "wsgihost: cannot load %s (%s): reinstall wsgihost\n", core_path,
                dlerror());
        return EXIT_CANNOT_LOAD;
    }
    set_executable(py->executable);
    return core_main(argc, argv);
}

/* Runs the server inside the interpreter itself (cmd/hosted.py imports it as an extension
 * module): `python .../hosted.py X.Y SELF ARGS...`. Returns only when that cannot run: errno. */
static int run_hosted(const wh_pyhome_t *py, const char *self, int argc, char **argv)
{
    char script[PATH_MAX];
    char **args = calloc((size_t)argc + 4, sizeof(char *));
    if (args == NULL)
        return ENOMEM;
    if (beside(self, WSGIHOST_LIBDIR "/" HOSTED_SCRIPT, script, sizeof(script)) != 0) {
        free(args);
        return ENAMETOOLONG;
    }
    size_t n = 0;
    args[n++] = (char *)py->executable;
    args[n++] = script;
    args[n++] = PY_VERSION_TEXT;
    args[n++] = (char *)self;
    for (int i = 1; i < argc; i++)
        args[n++] = argv[i];
    execvp(py->executable, args);
    int err = errno;
    free(args);
    return err;
}

int main(int argc, char **argv)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        fprintf(stderr, "wsgihost: cannot read /proc/self/exe: %s\n", strerror(errno));
        return EXIT_CANNOT_LOAD;
    }
    self[n] = '\0';
    wh_pyhome_t py;
    if (wh_pyhome_locate(self, "", "python" PY_VERSION_TEXT, &py) != 0) {
        fprintf(stderr, "wsgihost: path too long: %s\n", py.executable);
        return EXIT_CANNOT_LOAD;
    }
    if (py.venv[0] != '\0' && py.major != 0 &&
        (py.major != WSGIHOST_PY_MAJOR || py.minor != WSGIHOST_PY_MINOR)) {
        fprintf(stderr,
                "wsgihost: the virtualenv %s is for Python %d.%d but this wsgihost was built for "
                "Python %s; install wsgihost again with %s/bin/pip\n",
                py.venv, py.major, py.minor, PY_VERSION_TEXT, py.venv);
        return EXIT_WRONG_PYTHON;
    }
    char libpython[PATH_MAX];
    if (find_libpython(&py, libpython))
        return run_embedded(&py, libpython, self, argc, argv);
    int hosted_error = run_hosted(&py, self, argc, argv);
    /* No interpreter to run: an image that carries libpython and the stdlib alone (docker/
     * Dockerfile.distroless) has it on the loader's path. */
    if (dlopen(LIBPYTHON, RTLD_NOW | RTLD_GLOBAL) == NULL) {
        fprintf(stderr,
                "wsgihost: cannot run %s (%s), and no %s to load instead (%s): reinstall that "
                "Python, or install wsgihost with the Python you mean to run it with\n",
                py.executable, strerror(hosted_error), LIBPYTHON, dlerror());
        return EXIT_CANNOT_LOAD;
    }
    return run_embedded(&py, LIBPYTHON, self, argc, argv);
}
