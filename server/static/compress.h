/* Precompressed variants for the static handler (the `wsgihost compress-static DIR` subcommand,
 * cmd/compress_static.c): writes DIR's precompressed variants, FILE.br (brotli,
 * quality 11) and FILE.gz (gzip, level 9), beside each compressible file over a small size,
 * keeping a variant only when it is clearly smaller than the file (and removing a stale one
 * that no longer is). The step a Dockerfile runs after `collectstatic`; the static handler
 * (server/static/serve.h) then serves the variants to clients that accept them. */
#ifndef WSGIHOST_COMPRESS_H
#define WSGIHOST_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Compresses `len` bytes; returns 0 with a malloc'd result in *out / *out_len, or -1. */
int wh_compress_gzip(const void *data, size_t len, void **out, size_t *out_len);
int wh_compress_brotli(const void *data, size_t len, void **out, size_t *out_len);

typedef struct {
    unsigned files;   /* compressible files read */
    unsigned written; /* variants written */
    unsigned errors;  /* each reported on stderr as it happened */
} wh_compress_stats_t;

/* Writes the variants of every compressible file below `dir` (links are not followed), one
 * line per variant on stdout unless quiet. Adds what it did to *stats; 0, or -1 when any file
 * failed. */
int wh_compress_tree(const char *dir, bool quiet, wh_compress_stats_t *stats);

#endif
