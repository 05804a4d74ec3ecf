/* Request IDs (see server/ops/requestid.h). */
#include "server/ops/requestid.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void wh_request_id_init(wh_request_id_gen_t *g)
{
    g->counter = 0;
    if (getrandom(&g->seed, sizeof(g->seed), GRND_NONBLOCK) == (ssize_t)sizeof(g->seed))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g->seed = splitmix64((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
              ((uint64_t)getpid() << 32);
}

void wh_request_id_next(wh_request_id_gen_t *g, char out[WH_REQUEST_ID_GENERATED + 1])
{
    static const char hex[] = "0123456789abcdef";
    /* A bijection of seed + counter: distinct counters give distinct IDs. */
    uint64_t v = splitmix64(g->seed + g->counter++);
    for (int i = WH_REQUEST_ID_GENERATED - 1; i >= 0; i--) {
        out[i] = hex[v & 0xf];
        v >>= 4;
    }
    out[WH_REQUEST_ID_GENERATED] = '\0';
}

bool wh_request_id_valid(wh_str_t id)
{
    if (id.len == 0 || id.len > WH_REQUEST_ID_MAX)
        return false;
    for (size_t i = 0; i < id.len; i++) {
        unsigned char c = (unsigned char)id.ptr[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    return true;
}
