#include "server/static/parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum { Q_MAX = 1000, Q_IMPLICIT_IDENTITY = 1 };

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static wh_str_t trim(const char *p, size_t len)
{
    while (len > 0 && is_ows(*p)) {
        p++;
        len--;
    }
    while (len > 0 && is_ows(p[len - 1]))
        len--;
    return (wh_str_t){p, len};
}

static bool equals_ci(wh_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)s.ptr[i]) != lit[i])
            return false;
    }
    return true;
}

/* Parses decimal digits [p, end) into *out. -1 when empty, not digits, or overflowing. */
static int parse_u64(const char *p, const char *end, uint64_t *out)
{
    if (p == end)
        return -1;
    uint64_t n = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = n;
    return 0;
}

wh_range_result_t wh_range_parse(wh_str_t value, uint64_t size, uint64_t *first, uint64_t *length)
{
    static const char UNIT[] = "bytes=";
    wh_str_t v = trim(value.ptr, value.len);
    if (v.len < sizeof(UNIT) - 1 || strncasecmp(v.ptr, UNIT, sizeof(UNIT) - 1) != 0)
        return WH_RANGE_NONE;
    wh_str_t spec = trim(v.ptr + sizeof(UNIT) - 1, v.len - (sizeof(UNIT) - 1));
    const char *end = spec.ptr + spec.len;
    if (memchr(spec.ptr, ',', spec.len) != NULL) /* several ranges: send the whole file */
        return WH_RANGE_NONE;
    const char *dash = memchr(spec.ptr, '-', spec.len);
    if (dash == NULL)
        return WH_RANGE_NONE;
    uint64_t a, b;
    if (dash == spec.ptr) { /* suffix: the last n bytes */
        if (parse_u64(dash + 1, end, &b) != 0)
            return WH_RANGE_NONE;
        if (b == 0 || size == 0)
            return WH_RANGE_UNSATISFIABLE;
        *length = b < size ? b : size;
        *first = size - *length;
        return WH_RANGE_OK;
    }
    if (parse_u64(spec.ptr, dash, &a) != 0)
        return WH_RANGE_NONE;
    if (dash + 1 == end) {
        b = UINT64_MAX;
    } else if (parse_u64(dash + 1, end, &b) != 0 || b < a) {
        return WH_RANGE_NONE;
    }
    if (a >= size)
        return WH_RANGE_UNSATISFIABLE;
    if (b >= size)
        b = size - 1;
    *first = a;
    *length = b - a + 1;
    return WH_RANGE_OK;
}

/* Parses "q=0.5" style weights into thousandths; -1 when malformed. */
static int parse_q(wh_str_t s)
{
    if (s.len < 1 || s.len > 5 || (s.ptr[0] != '0' && s.ptr[0] != '1'))
        return -1;
    int q = (s.ptr[0] - '0') * Q_MAX;
    if (s.len == 1)
        return q;
    if (s.ptr[1] != '.')
        return -1;
    int scale = Q_MAX / 10;
    for (size_t i = 2; i < s.len; i++, scale /= 10) {
        if (!isdigit((unsigned char)s.ptr[i]))
            return -1;
        q += (s.ptr[i] - '0') * scale;
    }
    return q > Q_MAX ? -1 : q;
}

/* One list member: "coding [; q=x] [; other params]". Returns its q, or -1 when malformed. */
static int member_q(wh_str_t member, wh_str_t *coding)
{
    const char *semi = memchr(member.ptr, ';', member.len);
    *coding = trim(member.ptr, semi ? (size_t)(semi - member.ptr) : member.len);
    int q = Q_MAX;
    while (semi) {
        const char *start = semi + 1;
        const char *end = member.ptr + member.len;
        semi = memchr(start, ';', (size_t)(end - start));
        wh_str_t param = trim(start, (size_t)((semi ? semi : end) - start));
        if (param.len >= 2 && tolower((unsigned char)param.ptr[0]) == 'q' && param.ptr[1] == '=') {
            q = parse_q((wh_str_t){param.ptr + 2, param.len - 2});
            if (q < 0)
                return -1;
        }
    }
    return q;
}

void wh_accept_encoding_parse(wh_str_t value, bool present, wh_accept_encoding_t *out)
{
    out->br = out->gzip = 0;
    out->identity = Q_MAX;
    if (!present)
        return;
    int br = -1, gzip = -1, identity = -1, star = -1;
    const char *p = value.ptr, *end = value.ptr + value.len;
    while (p <= end && value.len > 0) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        wh_str_t coding;
        int q = member_q(trim(p, (size_t)(stop - p)), &coding);
        if (q >= 0) {
            if (equals_ci(coding, "br"))
                br = q;
            else if (equals_ci(coding, "gzip") || equals_ci(coding, "x-gzip"))
                gzip = q;
            else if (equals_ci(coding, "identity"))
                identity = q;
            else if (equals_ci(coding, "*"))
                star = q;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    out->br = br >= 0 ? br : (star >= 0 ? star : 0);
    out->gzip = gzip >= 0 ? gzip : (star >= 0 ? star : 0);
    /* Identity stays acceptable unless refused explicitly (RFC 9110 12.5.3); when a client
     * names only codings ("gzip;q=0.9"), it prefers them: identity comes last. */
    out->identity = identity >= 0 ? identity : star >= 0 ? star : Q_IMPLICIT_IDENTITY;
}

/* RFC 9110 §8.8.3.2: weak comparison ignores "W/" on both sides; strong comparison needs both
 * tags strong and equal. */
static bool etag_list_matches(wh_str_t value, const char *etag, bool strong)
{
    wh_str_t v = trim(value.ptr, value.len);
    if (v.len == 1 && v.ptr[0] == '*')
        return true;
    if (strncmp(etag, "W/", 2) == 0) {
        if (strong)
            return false;
        etag += 2;
    }
    size_t etag_len = strlen(etag);
    const char *p = v.ptr, *end = v.ptr + v.len;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        bool weak = end - p >= 2 && p[0] == 'W' && p[1] == '/';
        if (weak)
            p += 2;
        if (p >= end || *p != '"')
            return false;
        const char *close = memchr(p + 1, '"', (size_t)(end - p - 1));
        if (close == NULL)
            return false;
        size_t len = (size_t)(close - p + 1);
        if (len == etag_len && memcmp(p, etag, len) == 0 && !(strong && weak))
            return true;
        p = close + 1;
    }
    return false;
}

bool wh_etag_list_matches(wh_str_t value, const char *etag)
{
    return etag_list_matches(value, etag, false);
}

bool wh_etag_list_matches_strong(wh_str_t value, const char *etag)
{
    return etag_list_matches(value, etag, true);
}

static const char MONTHS[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char DAYS[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++) {
        if (strncmp(m, MONTHS[i], 3) == 0)
            return i;
    }
    return -1;
}

enum { DATE_TEXT_MAX = 64, RFC850_CENTURY_PIVOT = 70 };

int wh_http_date_parse(wh_str_t value, time_t *out)
{
    wh_str_t v = trim(value.ptr, value.len);
    if (v.len == 0 || v.len >= DATE_TEXT_MAX)
        return -1;
    char text[DATE_TEXT_MAX];
    memcpy(text, v.ptr, v.len);
    text[v.len] = '\0';
    char wday[16], mon[4], tz[4];
    int day, year, hh, mm, ss, used = 0;
    struct tm tm = {0};
    if (sscanf(text, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &day, mon, &year, &hh, &mm, &ss,
               tz, &used) == 8 &&
        used == (int)v.len) {
        /* IMF-fixdate */
    } else if (sscanf(text, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wday, &day, mon, &year,
                      &hh, &mm, &ss, tz, &used) == 8 &&
               used == (int)v.len) {
        year += year < RFC850_CENTURY_PIVOT ? 2000 : 1900; /* RFC 850 */
    } else if (sscanf(text, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &day, &hh, &mm, &ss, &year,
                      &used) == 7 &&
               used == (int)v.len) {
        strcpy(tz, "GMT"); /* asctime */
    } else {
        return -1;
    }
    int m = month_index(mon);
    if (m < 0 || strcmp(tz, "GMT") != 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 ||
        year < 1970)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = m;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    *out = timegm(&tm);
    return 0;
}

void wh_http_date_format(time_t t, char out[30])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    /* Bounded fields (the compiler can then see the 29 bytes fit). */
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    snprintf(out, 30, "%.3s, %02u %.3s %04u %02u:%02u:%02u GMT", DAYS[(unsigned)tm.tm_wday % 7u],
             (unsigned)tm.tm_mday % 100u, MONTHS[(unsigned)tm.tm_mon % 12u], year,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}
