#include "server/container/pq.h"

#include <stdio.h>

#ifdef WSGIHOST_LIBPQ_DLOPEN
#include <dlfcn.h>
#include <pthread.h>

enum { LOAD_ERROR_MAX = 512 };

static wh_pq_t table;
static const wh_pq_t *loaded;
static char load_error[LOAD_ERROR_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Looks one symbol up into *slot; 0, or -1 with load_error set. */
static int resolve(void *lib, const char *name, void **slot)
{
    *slot = dlsym(lib, name);
    if (*slot != NULL)
        return 0;
    snprintf(load_error, sizeof(load_error), "%s has no %s: install a newer %s", WH_PQ_SONAME, name,
             WH_PQ_PACKAGE);
    return -1;
}

/* Each field is named after its function without the PQ prefix. */
#define RESOLVE(field) resolve(lib, "PQ" #field, (void **)&table.field)

static void load(void)
{
    /* Local: libpq's symbols must not interpose on a copy an extension module brought. */
    void *lib = dlopen(WH_PQ_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(load_error, sizeof(load_error),
                 "PostgreSQL support needs %s, which cannot be loaded (%s): install the %s "
                 "package",
                 WH_PQ_SONAME, dlerror(), WH_PQ_PACKAGE);
        return;
    }
    if (RESOLVE(pingParams) || RESOLVE(conninfoParse) || RESOLVE(conninfoFree) ||
        RESOLVE(connectdbParams) || RESOLVE(status) || RESOLVE(errorMessage) || RESOLVE(finish) ||
        RESOLVE(execParams) || RESOLVE(resultStatus) || RESOLVE(ntuples) || RESOLVE(nfields) ||
        RESOLVE(getvalue) || RESOLVE(clear)) {
        (void)dlclose(lib); /* failing anyway */
        return;
    }
    loaded = &table; /* the library stays loaded for the life of the process */
}

const wh_pq_t *wh_pq(char *err, size_t err_size)
{
    if (pthread_once(&once, load) != 0) {
        if (err != NULL)
            snprintf(err, err_size, "cannot load %s", WH_PQ_SONAME);
        return NULL;
    }
    if (loaded == NULL && err != NULL)
        snprintf(err, err_size, "%s", load_error);
    return loaded;
}
#else
static const wh_pq_t table = {
    .pingParams = PQpingParams,
    .conninfoParse = PQconninfoParse,
    .conninfoFree = PQconninfoFree,
    .connectdbParams = PQconnectdbParams,
    .status = PQstatus,
    .errorMessage = PQerrorMessage,
    .finish = PQfinish,
    .execParams = PQexecParams,
    .resultStatus = PQresultStatus,
    .ntuples = PQntuples,
    .nfields = PQnfields,
    .getvalue = PQgetvalue,
    .clear = PQclear,
};

const wh_pq_t *wh_pq(char *err, size_t err_size)
{
    (void)err;
    (void)err_size;
    return &table;
}
#endif
