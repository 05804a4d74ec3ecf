/* `wsgihost compress-static [--quiet] DIR...` (server/static/compress.h does the work). */
#include "cmd/subcommands.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "server/static/compress.h"

enum { EXIT_USAGE = 2 };

static void usage(FILE *f)
{
    fprintf(f, "usage: wsgihost compress-static [--quiet] DIR...\n\n"
               "Writes FILE.br (brotli) and FILE.gz (gzip) beside each compressible file in DIR\n"
               "(run it after collectstatic); a variant is kept only when it is smaller.\n");
}

int wh_compress_static_main(int argc, char **argv)
{
    bool quiet = false;
    int dirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "wsgihost compress-static: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        } else {
            dirs++;
        }
    }
    if (dirs == 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    wh_compress_stats_t total = {0, 0, 0};
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        struct stat st;
        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "wsgihost compress-static: %s is not a directory\n", argv[i]);
            return EXIT_USAGE;
        }
        wh_compress_stats_t one;
        (void)wh_compress_tree(argv[i], quiet, &one); /* errors are counted and reported */
        total.files += one.files;
        total.written += one.written;
        total.errors += one.errors;
    }
    printf("compress-static: %u files compressed, %u variants written, %u errors\n", total.files,
           total.written, total.errors);
    return total.errors ? 1 : 0;
}
