#include "cmd/manage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pyglue/pyglue.h"
#include "server/core/config.h"

extern char **environ;

enum { EXIT_USAGE = 2, ERROR_TEXT_MAX = 512 };
/* "wsgihost" plus every leading option word. */
enum { OWN_ARGS_MAX = 2 * WH_CONFIG_MAX_PYTHONPATH + 16 };

/* The serving options that shape the interpreter; everything else belongs to Django. */
static const char *const OWN_OPTIONS[] = {"app", "chdir", "pythonpath", "virtualenv"};

/* How many words (1 or 2) the leading option at argv[i] takes; 0 when it is not ours. */
static int own_option_words(int argc, char **argv, int i)
{
    const char *w = argv[i];
    if (strncmp(w, "--", 2) != 0)
        return 0;
    const char *name = w + 2;
    size_t len = strcspn(name, "=");
    for (size_t k = 0; k < sizeof(OWN_OPTIONS) / sizeof(OWN_OPTIONS[0]); k++) {
        if (strlen(OWN_OPTIONS[k]) == len && strncmp(OWN_OPTIONS[k], name, len) == 0)
            return name[len] == '=' ? 1 : (i + 1 < argc ? 2 : 0);
    }
    return 0;
}

int wh_manage_main(int argc, char **argv)
{
    static char prog[] = "wsgihost";
    char *own[OWN_ARGS_MAX];
    int own_count = 0;
    own[own_count++] = prog;
    int i = 1;
    while (i < argc) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        int words = own_option_words(argc, argv, i);
        if (words == 0)
            break;
        if (own_count + words > OWN_ARGS_MAX) {
            fprintf(stderr, "wsgihost manage: too many options\n");
            return EXIT_USAGE;
        }
        for (int k = 0; k < words; k++)
            own[own_count++] = argv[i++];
    }
    wh_config_t cfg;
    wh_config_init(&cfg);
    cfg.app_optional = true; /* DJANGO_SETTINGS_MODULE may be enough */
    char err[ERROR_TEXT_MAX];
    int status = EXIT_USAGE;
    if (wh_config_load(&cfg, own_count, own, environ, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsgihost manage: %s\n", err);
        goto out;
    }
    if (cfg.chdir != NULL && chdir(cfg.chdir) != 0) {
        fprintf(stderr, "wsgihost manage: cannot change to --chdir %s: %s\n", cfg.chdir,
                strerror(errno));
        goto out;
    }
    wh_py_options_t py = {
        .app_spec = cfg.app,
        .pythonpath = cfg.pythonpath,
        .pythonpath_count = cfg.pythonpath_count,
        .virtualenv = cfg.virtualenv,
        .threads = 1,
    };
    status = wh_py_manage(&py, argc - i, argv + i);
out:
    wh_config_free(&cfg);
    return status;
}
