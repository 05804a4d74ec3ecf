/* Content types by file extension: a built-in table of what web sites serve, completed from
 * /etc/mime.types when present (the built-in entries win, so answers do not change with the
 * machine for common files). Text types carry "; charset=utf-8". Load once per process, before
 * serving; lookups are read-only afterwards. */
#ifndef WSGIHOST_MIME_H
#define WSGIHOST_MIME_H

#include <stdbool.h>

#define WH_MIME_DEFAULT "application/octet-stream"

/* Builds the table: the built-in entries plus those of `mime_types_path` (NULL or a missing
 * file: built-in only). Returns 0, or -1 on out of memory. */
int wh_mime_load(const char *mime_types_path);

/* Frees the table; lookups then see only the built-in entries. */
void wh_mime_free(void);

/* The Content-Type for a file name (its last extension, case-insensitive). Never NULL. */
const char *wh_mime_type(const char *filename);

/* True for types a browser may run as a document with scripts (HTML, SVG, XML): served from
 * user uploads only as attachments. */
bool wh_mime_is_active(const char *content_type);

#endif
