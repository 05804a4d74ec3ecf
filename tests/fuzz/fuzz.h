/* Shared by the fuzz targets: libFuzzer's entry points and a check that aborts with a reason.
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with clang and -fsanitize=fuzzer it is a
 * libFuzzer binary (tests/fuzz/run); built with any compiler and replay.c it is a plain program
 * that runs the files and directories it is given (ctest replays the seed corpora that way,
 * under ASan+UBSan in scripts/test). */
#ifndef WSGIHOST_FUZZ_H
#define WSGIHOST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant: when it fails the input is a bug (abort, so libFuzzer saves the input). */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads every byte so that ASan sees any out-of-bounds string; returns a checksum to keep the
 * compiler from dropping the reads. */
static inline unsigned fuzz_touch(const void *p, size_t len)
{
    const volatile unsigned char *s = p;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = sum * 31 + s[i];
    return sum;
}

#endif
