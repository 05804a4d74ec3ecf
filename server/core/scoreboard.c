#include "server/core/scoreboard.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

wh_scoreboard_t *wh_scoreboard_new(void)
{
    wh_scoreboard_t *sb = mmap(NULL, sizeof(wh_scoreboard_t), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sb == MAP_FAILED)
        return NULL;
    sb->master_pid = getpid(); /* the rest starts zeroed, as anonymous mappings do */
    return sb;
}

void wh_scoreboard_free(wh_scoreboard_t *sb)
{
    if (sb)
        munmap(sb, sizeof(*sb));
}
