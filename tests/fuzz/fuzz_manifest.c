/* Fuzz target: Django's staticfiles.json reader (wh_manifest_parse), a small JSON parser.
 *
 * Input: the file's text. Checked: a failure leaves an empty set; a success gives sorted,
 * NUL-free names, each of which the set then contains; nothing leaks (LeakSanitizer). */
#include <string.h>

#include "server/static/manifest.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    memcpy(text, data, size);
    wh_manifest_t m;
    int rc = wh_manifest_parse(&m, text, size);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && m.count == 0 && m.names == NULL, "failure left names");
    } else {
        for (size_t i = 0; i < m.count; i++) {
            fuzz_touch(m.names[i], strlen(m.names[i]) + 1);
            FUZZ_CHECK(i == 0 || strcmp(m.names[i - 1], m.names[i]) <= 0, "not sorted");
            FUZZ_CHECK(wh_manifest_contains(&m, m.names[i]), "%s not found", m.names[i]);
        }
        FUZZ_CHECK(!wh_manifest_contains(&m, "\x01never a name"), "found a name never given");
    }
    wh_manifest_free(&m);
    free(text);
    return 0;
}
