#include "server/static/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A manifest of a big site is a few MB; refuse absurd ones rather than read them whole. */
enum { MANIFEST_MAX_BYTES = 64 * 1024 * 1024, JSON_DEPTH_MAX = 64 };

/* A tiny JSON reader: just enough to walk an object and read strings. */
typedef struct {
    const char *p;
    const char *end;
} json_t;

static void skip_ws(json_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool eat(json_t *j, char c)
{
    skip_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return true;
    }
    return false;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads a string; with `out` non-NULL returns it decoded (malloc'd) there. */
static int read_string(json_t *j, char **out)
{
    if (!eat(j, '"'))
        return -1;
    const char *start = j->p;
    /* Decoded text is never longer than the escaped text. */
    char *s = NULL;
    size_t n = 0;
    if (out) {
        const char *q = start;
        while (q < j->end && *q != '"')
            q += *q == '\\' ? 2 : 1;
        s = malloc((size_t)(q - start) + 1);
        if (s == NULL)
            return -1;
    }
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if ((unsigned char)c < 0x20)
            goto bad;
        if (c != '\\') {
            if (s)
                s[n++] = c;
            continue;
        }
        if (j->p >= j->end)
            goto bad;
        char e = *j->p++;
        static const char SIMPLE_IN[] = "\"\\/bfnrt", SIMPLE_OUT[] = "\"\\/\b\f\n\r\t";
        const char *k = strchr(SIMPLE_IN, e);
        if (k && e) {
            if (s)
                s[n++] = SIMPLE_OUT[k - SIMPLE_IN];
            continue;
        }
        unsigned cp;
        if (e != 'u' || j->end - j->p < 4 || hex4(j->p, &cp) != 0)
            goto bad;
        j->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
            j->p[1] == 'u') {
            unsigned lo;
            if (hex4(j->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                j->p += 6;
            }
        }
        if (cp == 0)
            goto bad; /* a NUL can never be part of a file name */
        if (s)
            n += put_utf8(s + n, cp);
    }
    if (j->p >= j->end)
        goto bad;
    j->p++;
    if (s) {
        s[n] = '\0';
        *out = s;
    }
    return 0;
bad:
    free(s);
    return -1;
}

static int skip_value(json_t *j, int depth);

static int skip_container(json_t *j, char close, bool object, int depth)
{
    if (depth > JSON_DEPTH_MAX)
        return -1;
    if (eat(j, close))
        return 0;
    do {
        if (object && (read_string(j, NULL) != 0 || !eat(j, ':')))
            return -1;
        if (skip_value(j, depth + 1) != 0)
            return -1;
    } while (eat(j, ','));
    return eat(j, close) ? 0 : -1;
}

static int skip_value(json_t *j, int depth)
{
    skip_ws(j);
    if (j->p >= j->end)
        return -1;
    switch (*j->p) {
    case '"':
        return read_string(j, NULL);
    case '{':
        j->p++;
        return skip_container(j, '}', true, depth);
    case '[':
        j->p++;
        return skip_container(j, ']', false, depth);
    default: { /* numbers, true, false, null: a non-empty word of their characters */
        const char *start = j->p;
        while (j->p < j->end && strchr("0123456789+-.eEtrufalsn", *j->p) != NULL)
            j->p++;
        return j->p > start ? 0 : -1;
    }
    }
}

static int add_name(wh_manifest_t *m, size_t *cap, char *name)
{
    if (m->count == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        char **grown = realloc(m->names, n * sizeof(*grown));
        if (grown == NULL)
            return -1;
        m->names = grown;
        *cap = n;
    }
    m->names[m->count++] = name;
    return 0;
}

/* The "paths" object: collects its values. */
static int read_paths(json_t *j, wh_manifest_t *m, size_t *cap)
{
    if (!eat(j, '{'))
        return -1;
    if (eat(j, '}'))
        return 0;
    do {
        char *value = NULL;
        if (read_string(j, NULL) != 0 || !eat(j, ':'))
            return -1;
        skip_ws(j);
        if (j->p < j->end && *j->p == '"') {
            if (read_string(j, &value) != 0)
                return -1;
            if (add_name(m, cap, value) != 0) {
                free(value);
                return -1;
            }
        } else if (skip_value(j, 1) != 0) {
            return -1;
        }
    } while (eat(j, ','));
    return eat(j, '}') ? 0 : -1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int wh_manifest_parse(wh_manifest_t *m, const char *text, size_t len)
{
    m->names = NULL;
    m->count = 0;
    size_t cap = 0;
    json_t j = {text, text + len};
    if (!eat(&j, '{'))
        goto bad;
    if (!eat(&j, '}')) {
        do {
            char *key = NULL;
            if (read_string(&j, &key) != 0)
                goto bad;
            bool paths = strcmp(key, "paths") == 0;
            free(key);
            if (!eat(&j, ':'))
                goto bad;
            if ((paths ? read_paths(&j, m, &cap) : skip_value(&j, 1)) != 0)
                goto bad;
        } while (eat(&j, ','));
        if (!eat(&j, '}'))
            goto bad;
    }
    if (m->count > 0)
        qsort(m->names, m->count, sizeof(*m->names), compare_names);
    return 0;
bad:
    wh_manifest_free(m);
    return -1;
}

int wh_manifest_load(wh_manifest_t *m, const char *path)
{
    m->names = NULL;
    m->count = 0;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? 0 : -1;
    char *text = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    int rc = -1;
    if (size >= 0 && size <= MANIFEST_MAX_BYTES && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) != NULL &&
        fread(text, 1, (size_t)size, f) == (size_t)size)
        rc = wh_manifest_parse(m, text, (size_t)size);
    free(text);
    fclose(f);
    return rc;
}

bool wh_manifest_contains(const wh_manifest_t *m, const char *name)
{
    if (m->count == 0)
        return false;
    return bsearch(&name, m->names, m->count, sizeof(*m->names), compare_names) != NULL;
}

void wh_manifest_free(wh_manifest_t *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->names[i]);
    free(m->names);
    m->names = NULL;
    m->count = 0;
}
