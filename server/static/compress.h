/* `wsgihost compress-static DIR`: writes DIR's precompressed variants, FILE.br (brotli,
 * quality 11) and FILE.gz (gzip, level 9), beside each compressible file over a small size,
 * keeping a variant only when it is clearly smaller than the file (and removing a stale one
 * that no longer is). The step a Dockerfile runs after `collectstatic`; the static handler
 * (server/static/serve.h) then serves the variants to clients that accept them. */
#ifndef WSGIHOST_COMPRESS_H
#define WSGIHOST_COMPRESS_H

#include <stddef.h>

/* Compresses `len` bytes; returns 0 with a malloc'd result in *out / *out_len, or -1. */
int wh_compress_gzip(const void *data, size_t len, void **out, size_t *out_len);
int wh_compress_brotli(const void *data, size_t len, void **out, size_t *out_len);

/* The subcommand: argv[0] is "compress-static". Returns the exit status. */
int wh_compress_static_main(int argc, char **argv);

#endif
