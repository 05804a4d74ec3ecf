#include "server/core/scoreboard.h"

#include <sys/mman.h>
#include <time.h>

enum { MS_PER_S = 1000, NS_PER_MS = 1000000 };

wh_scoreboard_t *wh_scoreboard_new(void)
{
    void *p = mmap(NULL, sizeof(wh_scoreboard_t), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* anonymous mappings start zeroed */
}

void wh_scoreboard_free(wh_scoreboard_t *sb)
{
    if (sb)
        munmap(sb, sizeof(*sb));
}

uint64_t wh_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * MS_PER_S + (uint64_t)ts.tv_nsec / NS_PER_MS;
}
