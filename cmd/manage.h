/* The `manage` subcommand's command line (wires server/core/config.h to pyglue's wh_py_manage):
 *
 *   wsgihost manage [--app M] [--chdir DIR] [--pythonpath DIRS] [--virtualenv DIR] [--] ARGS...
 *
 * The leading options (also read from WSGIHOST_APP, WSGIHOST_CHDIR, ..., WSGIHOST_CMD_ARGS
 * and VIRTUAL_ENV, exactly as when serving) configure the interpreter; ARGS go to Django. */
#ifndef WSGIHOST_MANAGE_CMD_H
#define WSGIHOST_MANAGE_CMD_H

/* argv[0] is "manage". Returns the exit status. */
int wh_manage_main(int argc, char **argv);

#endif
