#include "server/static/open.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

/* What the kernel allows for symlink expansions in one lookup. */
enum { SYMLINK_MAX = 40, DEPTH_MAX = 128 };
static const int FILE_FLAGS = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

static int use_openat2 = -1; /* -1 until decided */

#ifdef SYS_openat2
static int open_beneath(int root_fd, const char *rel)
{
    struct open_how how = {
        .flags = (unsigned long long)FILE_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
}
#endif

void wh_static_open_init(void)
{
    if (use_openat2 >= 0)
        return;
    const char *force = getenv(WH_STATIC_NO_OPENAT2_ENV);
    use_openat2 = 0;
    if (force && *force && strcmp(force, "0") != 0)
        return;
#ifdef SYS_openat2
    /* Probe with the root itself: ENOSYS (old kernel) or a seccomp filter's EPERM mean no. */
    int fd = open_beneath(AT_FDCWD, ".");
    if (fd >= 0) {
        close(fd);
        use_openat2 = 1;
    }
#endif
}

bool wh_static_open_uses_openat2(void)
{
    wh_static_open_init();
    return use_openat2 == 1;
}

/* The walk's state: descriptors of the directories entered (dirs[0] is the root, borrowed) and
 * the components still to resolve. */
typedef struct {
    int dirs[DEPTH_MAX];
    int depth;
    char pending[PATH_MAX];
} walk_t;

static void walk_release(walk_t *w)
{
    for (int i = 1; i <= w->depth; i++)
        close(w->dirs[i]);
    w->depth = 0;
}

/* Replaces the pending path by `target` + "/" + `rest`. */
static int push_link(walk_t *w, const char *target, const char *rest)
{
    size_t tlen = strlen(target), rlen = strlen(rest);
    if (tlen + 1 + rlen + 1 > sizeof(w->pending)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memmove(w->pending + tlen + 1, rest, rlen + 1);
    memcpy(w->pending, target, tlen);
    w->pending[tlen] = rlen ? '/' : '\0';
    return 0;
}

/* Takes the next component off w->pending into `name`; false when none is left. */
static bool next_component(walk_t *w, char name[NAME_MAX + 1], bool *last)
{
    char *p = w->pending;
    while (*p == '/')
        p++;
    if (*p == '\0')
        return false;
    size_t len = strcspn(p, "/");
    if (len > NAME_MAX) {
        name[0] = '\0';
        return true;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    char *rest = p + len;
    while (*rest == '/')
        rest++;
    *last = *rest == '\0';
    memmove(w->pending, rest, strlen(rest) + 1);
    return true;
}

static int open_walk(int root_fd, const char *rel)
{
    walk_t w = {.depth = 0};
    w.dirs[0] = root_fd;
    if (strlen(rel) >= sizeof(w.pending)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(w.pending, rel);
    int links = 0;
    char name[NAME_MAX + 1];
    bool last = true;
    while (next_component(&w, name, &last)) {
        int dir = w.dirs[w.depth];
        if (name[0] == '\0') {
            errno = ENAMETOOLONG;
            goto fail;
        }
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (w.depth == 0) {
                errno = EXDEV; /* above the root */
                goto fail;
            }
            close(w.dirs[w.depth--]);
            continue;
        }
        int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            goto fail;
        struct stat st;
        if (fstat(fd, &st) != 0) {
            close(fd);
            goto fail;
        }
        if (S_ISLNK(st.st_mode)) {
            close(fd);
            char target[PATH_MAX];
            ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
            if (n < 0)
                goto fail;
            target[n] = '\0';
            if (++links > SYMLINK_MAX) {
                errno = ELOOP;
                goto fail;
            }
            if (target[0] == '/' || n == 0) {
                errno = EXDEV; /* absolute: outside by definition */
                goto fail;
            }
            char rest[PATH_MAX];
            strcpy(rest, w.pending);
            if (push_link(&w, target, rest) != 0)
                goto fail;
            continue;
        }
        if (last) {
            close(fd);
            /* The final component was just seen not to be a link; O_NOFOLLOW keeps it so. */
            int file = openat(dir, name, FILE_FLAGS | O_NOFOLLOW);
            walk_release(&w);
            return file;
        }
        if (!S_ISDIR(st.st_mode) || w.depth + 1 >= DEPTH_MAX) {
            close(fd);
            errno = ENOTDIR;
            goto fail;
        }
        w.dirs[++w.depth] = fd;
    }
    /* Everything resolved to a directory on the stack (or the root): open it. */
    {
        int file = openat(w.dirs[w.depth], ".", FILE_FLAGS);
        walk_release(&w);
        return file;
    }
fail : {
    int saved = errno;
    walk_release(&w);
    errno = saved;
    return -1;
}
}

int wh_static_open(int root_fd, const char *rel)
{
    wh_static_open_init();
    if (rel[0] == '/') {
        errno = EXDEV;
        return -1;
    }
#ifdef SYS_openat2
    if (use_openat2 == 1)
        return open_beneath(root_fd, rel[0] ? rel : ".");
#endif
    return open_walk(root_fd, rel);
}
