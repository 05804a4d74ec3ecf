/* The subcommands' entries (`wsgihost NAME ARGS...`, dispatched by cmd/main.c): each gets argv
 * from NAME on (argv[0] is NAME) and returns the exit status. */
#ifndef WSGIHOST_SUBCOMMANDS_H
#define WSGIHOST_SUBCOMMANDS_H

/* cmd/healthcheck.c */
int wh_healthcheck_main(int argc, char **argv);
/* cmd/compress_static.c */
int wh_compress_static_main(int argc, char **argv);

#endif
