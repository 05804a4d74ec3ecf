/* The python3 command line, but on the shared libpython (libpython3.X.so) that embedding servers
 * (wsgihost, uWSGI, mod_wsgi) load, for bench/run's second in-process ceiling. Debian's
 * /usr/bin/python3 has the interpreter linked in statically, built differently (non-PIC, LTO):
 * on Debian 12 the same Django request costs about 20% more instructions through the shared
 * library. bench/run builds this with `cc $(python3-config --embed --cflags --ldflags)`. */
#include <Python.h>

int main(int argc, char **argv)
{
    return Py_BytesMain(argc, argv);
}
