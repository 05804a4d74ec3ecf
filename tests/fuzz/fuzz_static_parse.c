/* Fuzz target: the header parsers static files depend on (server/static/parse.c).
 *
 * Input: byte 0 picks the parser (mod 4): Range, Accept-Encoding, If-None-Match or an HTTP
 * date; for Range bytes 1-8 are the file size; the rest is the header value (an allocation of
 * its exact size).
 *
 * Range is compared with a reference written from RFC 9110 14.1.2 (one range-spec; a suffix of
 * 0 or a first byte past the end unsatisfiable; anything else, several ranges included,
 * ignored), and a satisfiable answer must lie inside the file. Accept-Encoding weights are in
 * 0..1000, a coding never named (nor '*') is not acceptable and identity
 * is refused only by name or by '*'. An entity tag always matches
 * itself and '*'. A date that parses formats back to the same time, and a formatted date parses
 * back to its time. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "server/static/parse.h"
#include "tests/fuzz/fuzz.h"

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Digits [*i, end) into *out; false when none or too many for 64 bits. */
static bool digits(const char *s, size_t *i, size_t end, uint64_t *out)
{
    size_t start = *i;
    uint64_t v = 0;
    while (*i < end && s[*i] >= '0' && s[*i] <= '9') {
        unsigned d = (unsigned)(s[*i] - '0');
        /* wh_range_parse calls numbers from 18446744073709551610 up malformed (a Range then
         * ignored, allowed by RFC 9110): the reference follows, it changes nothing real. */
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + d;
        (*i)++;
    }
    *out = v;
    return *i > start;
}

static wh_range_result_t ref_range(const char *s, size_t len, uint64_t size, uint64_t *first,
                                   uint64_t *length)
{
    size_t i = 0, end = len;
    while (i < end && ows(s[i]))
        i++;
    while (end > i && ows(s[end - 1]))
        end--;
    if (end - i < 6 || strncasecmp(s + i, "bytes=", 6) != 0)
        return WH_RANGE_NONE;
    i += 6;
    while (i < end && ows(s[i]))
        i++;
    uint64_t a, b;
    if (i < end && s[i] == '-') {
        i++;
        if (!digits(s, &i, end, &b) || i != end)
            return WH_RANGE_NONE;
        if (b == 0 || size == 0)
            return WH_RANGE_UNSATISFIABLE;
        *length = b < size ? b : size;
        *first = size - *length;
        return WH_RANGE_OK;
    }
    if (!digits(s, &i, end, &a) || i == end || s[i] != '-')
        return WH_RANGE_NONE;
    i++;
    if (i == end) {
        b = UINT64_MAX;
    } else if (!digits(s, &i, end, &b) || i != end || b < a) {
        return WH_RANGE_NONE;
    }
    if (a >= size)
        return WH_RANGE_UNSATISFIABLE;
    *first = a;
    *length = (b >= size ? size - 1 : b) - a + 1;
    return WH_RANGE_OK;
}

static bool contains_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, word, n) == 0)
            return true;
    return false;
}

static void check_date_round_trip(time_t t)
{
    char text[30], again[30];
    wh_http_date_format(t, text);
    time_t back;
    FUZZ_CHECK(wh_http_date_parse((wh_str_t){text, strlen(text)}, &back) == 0,
               "formatted date %s does not parse", text);
    FUZZ_CHECK(back == t, "%s parsed as %lld, not %lld", text, (long long)back, (long long)t);
    wh_http_date_format(back, again);
    FUZZ_CHECK(strcmp(text, again) == 0, "%s formatted again as %s", text, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] & 3;
    uint64_t file_size = 0;
    size_t skip = 1;
    if (which == 0) {
        for (size_t i = 1; i < 9 && i < size; i++)
            file_size = file_size << 8 | data[i];
        /* mostly small files, so the values the fuzzer writes matter */
        if (!(file_size >> 63))
            file_size &= 0xffff;
        skip = size < 9 ? size : 9;
    }
    size_t len = size - skip;
    char *v = malloc(len ? len : 1);
    FUZZ_CHECK(v != NULL, "out of memory");
    memcpy(v, data + skip, len);
    wh_str_t value = {v, len};

    switch (which) {
    case 0: {
        uint64_t first = 7, length = 7, rfirst = 7, rlength = 7;
        wh_range_result_t r = wh_range_parse(value, file_size, &first, &length);
        wh_range_result_t ref = ref_range(v, len, file_size, &rfirst, &rlength);
        FUZZ_CHECK(r == ref, "Range '%.*s' on %llu bytes: %d, the reference says %d", (int)len, v,
                   (unsigned long long)file_size, r, ref);
        if (r == WH_RANGE_OK) {
            FUZZ_CHECK(first == rfirst && length == rlength,
                       "Range '%.*s': %llu+%llu, not "
                       "%llu+%llu",
                       (int)len, v, (unsigned long long)first, (unsigned long long)length,
                       (unsigned long long)rfirst, (unsigned long long)rlength);
            FUZZ_CHECK(length >= 1 && first < file_size && length <= file_size - first,
                       "range outside the file");
        }
        break;
    }
    case 1: {
        wh_accept_encoding_t ae;
        wh_accept_encoding_parse(value, true, &ae);
        FUZZ_CHECK(ae.br >= 0 && ae.br <= 1000 && ae.gzip >= 0 && ae.gzip <= 1000 &&
                       ae.identity >= 0 && ae.identity <= 1000,
                   "weights %d %d %d", ae.br, ae.gzip, ae.identity);
        bool star = memchr(v, '*', len) != NULL;
        if (!star && !contains_ci(v, len, "br"))
            FUZZ_CHECK(ae.br == 0, "br acceptable in '%.*s'", (int)len, v);
        if (!star && !contains_ci(v, len, "gzip"))
            FUZZ_CHECK(ae.gzip == 0, "gzip acceptable in '%.*s'", (int)len, v);
        if (!star && !contains_ci(v, len, "identity"))
            FUZZ_CHECK(ae.identity > 0, "identity refused in '%.*s'", (int)len, v);
        wh_accept_encoding_parse((wh_str_t){NULL, 0}, false, &ae);
        FUZZ_CHECK(ae.br == 0 && ae.gzip == 0 && ae.identity == 1000, "absent header");
        break;
    }
    case 2: {
        /* The value is also used as an entity tag: "<value without quotes>". */
        char *etag = malloc(len + 3);
        FUZZ_CHECK(etag != NULL, "out of memory");
        size_t n = 0;
        etag[n++] = '"';
        for (size_t i = 0; i < len; i++)
            if (v[i] != '"' && v[i] != '\0')
                etag[n++] = v[i];
        etag[n++] = '"';
        etag[n] = '\0';
        (void)wh_etag_list_matches(value, etag);
        FUZZ_CHECK(wh_etag_list_matches((wh_str_t){etag, n}, etag), "%s does not match itself",
                   etag);
        FUZZ_CHECK(wh_etag_list_matches((wh_str_t){"*", 1}, etag), "* does not match");
        char weak[8] = "W/\"x\"";
        FUZZ_CHECK(wh_etag_list_matches((wh_str_t){"W/\"x\"", 5}, weak) &&
                       wh_etag_list_matches((wh_str_t){"\"x\"", 3}, weak),
                   "weak comparison");
        free(etag);
        break;
    }
    case 3: {
        time_t t;
        if (wh_http_date_parse(value, &t) == 0) {
            FUZZ_CHECK(t >= 0, "date '%.*s' before 1970", (int)len, v);
            /* (a leap second on 31 Dec 9999 rolls over into year 10000: not formattable) */
            if (t < 253402300800)
                check_date_round_trip(t);
        }
        /* Any time from 1970 to 9999 survives format and parse. */
        uint64_t raw = 0;
        for (size_t i = 0; i < len && i < 8; i++)
            raw = raw << 8 | (uint8_t)v[i];
        check_date_round_trip((time_t)(raw % 253402300800ull));
        break;
    }
    }
    free(v);
    return 0;
}
