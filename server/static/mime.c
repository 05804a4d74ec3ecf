#include "server/static/mime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *ext;
    const char *type;
} mime_entry_t;

/* What static files and uploads usually are; sorted by extension for bsearch. */
static const mime_entry_t BUILTIN[] = {
    {"7z", "application/x-7z-compressed"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"eot", "application/vnd.ms-fontobject"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"ogg", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"tar", "application/x-tar"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml; charset=utf-8"},
    {"xml", "text/xml; charset=utf-8"},
    {"zip", "application/zip"},
};
enum { BUILTIN_COUNT = sizeof(BUILTIN) / sizeof(BUILTIN[0]) };
enum { EXT_MAX = 32, LINE_MAX_LEN = 1024 };

/* The extra entries from mime.types, sorted; strings owned. */
static mime_entry_t *extra;
static size_t extra_count;

static int compare_entry(const void *a, const void *b)
{
    return strcmp(((const mime_entry_t *)a)->ext, ((const mime_entry_t *)b)->ext);
}

static const mime_entry_t *find(const mime_entry_t *table, size_t count, const char *ext)
{
    mime_entry_t key = {ext, NULL};
    return bsearch(&key, table, count, sizeof(key), compare_entry);
}

void wh_mime_free(void)
{
    for (size_t i = 0; i < extra_count; i++) {
        free((char *)extra[i].ext);
        free((char *)extra[i].type);
    }
    free(extra);
    extra = NULL;
    extra_count = 0;
}

/* text/..., and the script and data types browsers decode as text. */
static bool wants_charset(const char *type)
{
    return strncmp(type, "text/", 5) == 0 || strcmp(type, "application/javascript") == 0 ||
           strcmp(type, "application/json") == 0 || strcmp(type, "application/xml") == 0;
}

static int add_extra(size_t *cap, const char *ext, const char *type)
{
    if (find(BUILTIN, BUILTIN_COUNT, ext) != NULL)
        return 0;
    for (size_t i = 0; i < extra_count; i++) { /* first mention wins; files are small */
        if (strcmp(extra[i].ext, ext) == 0)
            return 0;
    }
    if (extra_count == *cap) {
        size_t n = *cap ? *cap * 2 : 256;
        mime_entry_t *grown = realloc(extra, n * sizeof(*grown));
        if (grown == NULL)
            return -1;
        extra = grown;
        *cap = n;
    }
    char *e = strdup(ext);
    size_t tlen = strlen(type);
    char *t = malloc(tlen + sizeof("; charset=utf-8"));
    if (e == NULL || t == NULL) {
        free(e);
        free(t);
        return -1;
    }
    memcpy(t, type, tlen + 1);
    if (wants_charset(type))
        strcat(t, "; charset=utf-8");
    extra[extra_count++] = (mime_entry_t){e, t};
    return 0;
}

int wh_mime_load(const char *path)
{
    wh_mime_free();
    FILE *f = path ? fopen(path, "re") : NULL;
    if (f == NULL)
        return 0;
    char line[LINE_MAX_LEN];
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *save = NULL;
        char *type = strtok_r(line, " \t\r\n", &save);
        if (type == NULL || type[0] == '#' || strchr(type, '/') == NULL)
            continue;
        for (char *ext; rc == 0 && (ext = strtok_r(NULL, " \t\r\n", &save));) {
            if (strlen(ext) < EXT_MAX) {
                for (char *c = ext; *c; c++)
                    *c = (char)tolower((unsigned char)*c);
                rc = add_extra(&cap, ext, type);
            }
        }
    }
    fclose(f);
    if (rc != 0) {
        wh_mime_free();
        return -1;
    }
    if (extra_count > 0)
        qsort(extra, extra_count, sizeof(*extra), compare_entry);
    return 0;
}

const char *wh_mime_type(const char *filename)
{
    const char *slash = strrchr(filename, '/');
    const char *base = slash ? slash + 1 : filename;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base || strlen(dot + 1) >= EXT_MAX)
        return WH_MIME_DEFAULT;
    char ext[EXT_MAX];
    size_t i = 0;
    for (const char *c = dot + 1; *c; c++)
        ext[i++] = (char)tolower((unsigned char)*c);
    ext[i] = '\0';
    const mime_entry_t *e = find(BUILTIN, BUILTIN_COUNT, ext);
    if (e == NULL && extra_count > 0)
        e = find(extra, extra_count, ext);
    return e ? e->type : WH_MIME_DEFAULT;
}

bool wh_mime_is_active(const char *type)
{
    static const char *const ACTIVE[] = {"text/html", "application/xhtml+xml", "image/svg+xml",
                                         "text/xml",  "application/xml",       "text/xsl"};
    for (size_t i = 0; i < sizeof(ACTIVE) / sizeof(ACTIVE[0]); i++) {
        size_t n = strlen(ACTIVE[i]);
        if (strncmp(type, ACTIVE[i], n) == 0 && (type[n] == '\0' || type[n] == ';'))
            return true;
    }
    /* Anything else ending in +xml (e.g. application/rss+xml) can carry scripts too. */
    const char *semi = strchr(type, ';');
    size_t len = semi ? (size_t)(semi - type) : strlen(type);
    return len >= 4 && strncmp(type + len - 4, "+xml", 4) == 0;
}
