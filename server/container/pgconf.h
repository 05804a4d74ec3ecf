/* Which database the app uses, seen from the environment the way the app sees it, and the
 * libpq connection string for it. Pure string work (no libpq), so it is unit-tested.
 *
 *   DATABASE_URL=postgres://... (also postgresql://, pgsql://, postgis://)  PostgreSQL, the URL
 *                                                  as libpq's conninfo (libpq reads URIs)
 *   DATABASE_URL=anything else (sqlite://, mysql://)  another database: nothing to check
 *   DATABASE_URL unset, PGHOST/PGHOSTADDR/PGDATABASE/PGSERVICE set  PostgreSQL, conninfo ""
 *                                                  (libpq reads the PG* variables itself)
 *   neither                                          no database server (SQLite) */
#ifndef WSGIHOST_PGCONF_H
#define WSGIHOST_PGCONF_H

#include <stddef.h>

typedef enum {
    WH_DB_NONE,     /* no server database configured (SQLite, the zero-setup default) */
    WH_DB_OTHER,    /* DATABASE_URL names a database other than PostgreSQL */
    WH_DB_POSTGRES, /* PostgreSQL: conninfo is set */
    WH_DB_INVALID,  /* DATABASE_URL is too long: err says so */
} wh_db_kind_t;

/* Longest connection string we keep. */
enum { WH_CONNINFO_MAX = 4096 };

/* Looks at envp (NULL-terminated "NAME=value" strings) and writes the conninfo for
 * WH_DB_POSTGRES into `conninfo` (always NUL-terminated, "" otherwise). */
wh_db_kind_t wh_pgconf_from_env(char *const *envp, char *conninfo, size_t cap);

#endif
