/* The set of hashed file names Django's ManifestStaticFilesStorage wrote to
 * STATIC_ROOT/staticfiles.json (the values of its "paths" map): those names change whenever the
 * content does, so they may be cached forever (immutable). */
#ifndef WSGIHOST_STATIC_MANIFEST_H
#define WSGIHOST_STATIC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **names; /* sorted */
    size_t count;
} wh_manifest_t;

/* Reads the manifest at `path`. A missing file gives an empty set (0); an unreadable or
 * malformed one gives an empty set and -1 (worth a warning). */
int wh_manifest_load(wh_manifest_t *m, const char *path);

/* Parses manifest JSON text (len bytes). Returns 0, or -1 when malformed or out of memory. */
int wh_manifest_parse(wh_manifest_t *m, const char *json, size_t len);

bool wh_manifest_contains(const wh_manifest_t *m, const char *name);

void wh_manifest_free(wh_manifest_t *m);

#endif
