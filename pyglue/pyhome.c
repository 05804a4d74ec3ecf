#include "pyglue/pyhome.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Longest pyvenv.cfg line we look at. */
enum { CFG_LINE_MAX = 4096 };

/* "  value  \n" -> "value" in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
        s[--n] = '\0';
    return s;
}

int wh_pyvenv_read(const char *cfg_path, int *major, int *minor, char *home, size_t home_cap)
{
    FILE *f = fopen(cfg_path, "re");
    if (f == NULL)
        return -1;
    if (home != NULL && home_cap > 0)
        home[0] = '\0';
    char line[CFG_LINE_MAX];
    int found = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        const char *key = trim(line);
        const char *value = trim(eq + 1);
        if (!found && (strcmp(key, "version") == 0 || strcmp(key, "version_info") == 0) &&
            sscanf(value, "%d.%d", major, minor) == 2)
            found = 1;
        else if (home != NULL && strcmp(key, "home") == 0 &&
                 (size_t)snprintf(home, home_cap, "%s", value) >= home_cap)
            home[0] = '\0'; /* too long to use: as if absent */
    }
    fclose(f);
    return found;
}

/* snprintf into a PATH_MAX buffer; -1 when it does not fit. */
#define FORMAT_PATH(buf, ...)                                                                      \
    ((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < sizeof(buf) ? 0 : -1)

int wh_pyhome_locate(const char *self, const char *fallback, const char *versioned,
                     wh_pyhome_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *slash = strrchr(self, '/');
    int dir_len = slash != NULL ? (int)(slash - self) : 0;
    char cfg[PATH_MAX];
    if (dir_len == 0 || FORMAT_PATH(cfg, "%.*s/../pyvenv.cfg", dir_len, self) != 0) {
        /* no directory, or too long to be a virtualenv's bin/ */
    } else if (access(cfg, R_OK) == 0) {
        /* the venv is bin/'s parent: /v/bin/wsgihost -> /v */
        int root_len = dir_len;
        while (root_len > 0 && self[root_len - 1] != '/')
            root_len--;
        root_len = root_len > 1 ? root_len - 1 : root_len;
        if (FORMAT_PATH(out->venv, "%.*s", root_len, self) != 0 ||
            FORMAT_PATH(out->executable, "%.*s/python", dir_len, self) != 0)
            return -1;
        /* a pyvenv.cfg without a version or home is still a virtualenv */
        if (wh_pyvenv_read(cfg, &out->major, &out->minor, out->home, sizeof(out->home)) <= 0)
            out->major = out->minor = 0;
        return 0;
    }
    if (fallback != NULL && fallback[0] != '\0')
        return FORMAT_PATH(out->executable, "%s", fallback);
    if (dir_len > 0 && FORMAT_PATH(out->executable, "%.*s/%s", dir_len, self, versioned) == 0 &&
        access(out->executable, X_OK) == 0)
        return 0;
    return FORMAT_PATH(out->executable, "%s", versioned);
}
