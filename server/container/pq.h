/* libpq's functions, for the features that talk to PostgreSQL (--wait-for-db, the --migrate
 * lock, the readiness probe). The Debian build links libpq; the pip build (WSGIHOST_LIBPQ_DLOPEN)
 * loads libpq.so.5 on first use, so a wsgihost that never talks to PostgreSQL runs on a machine
 * without libpq5. */
#ifndef WSGIHOST_PQ_H
#define WSGIHOST_PQ_H

#include <libpq-fe.h>
#include <stddef.h>

/* The library the pip build loads, and the Debian package that ships it. */
#define WH_PQ_SONAME "libpq.so.5"
#define WH_PQ_PACKAGE "libpq5"

typedef struct {
    __typeof__(PQpingParams) *pingParams;
    __typeof__(PQconninfoParse) *conninfoParse;
    __typeof__(PQconninfoFree) *conninfoFree;
    __typeof__(PQconnectdbParams) *connectdbParams;
    __typeof__(PQstatus) *status;
    __typeof__(PQerrorMessage) *errorMessage;
    __typeof__(PQfinish) *finish;
    __typeof__(PQexecParams) *execParams;
    __typeof__(PQresultStatus) *resultStatus;
    __typeof__(PQntuples) *ntuples;
    __typeof__(PQnfields) *nfields;
    __typeof__(PQgetvalue) *getvalue;
    __typeof__(PQclear) *clear;
} wh_pq_t;

/* The functions, loading the library the first time (thread-safe); NULL when it cannot be
 * loaded, with a one-line reason naming the package in err (when err is not NULL). */
const wh_pq_t *wh_pq(char *err, size_t err_size);

#endif
