/* --user, --group, --initgroups, --umask: who the workers run as, and the Unix sockets' mode
 * and owner, as gunicorn does: the master binds (as root, for ports below 1024), then each
 * worker drops to the user and group before it imports the app. */
#ifndef WSGIHOST_IDENTITY_H
#define WSGIHOST_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum { WH_USER_NAME_MAX = 256 };

typedef struct {
    bool change_uid, change_gid; /* false: keep the process's own */
    uid_t uid;
    gid_t gid;
    bool initgroups;
    char user_name[WH_USER_NAME_MAX]; /* for initgroups(3) */
} wh_identity_t;

/* Resolves `user` and `group` (names or numbers; NULL: unchanged). Not running as root, only
 * the current uid and gid are accepted (there is nothing to switch). 0, or -1 with a one-line
 * reason in err. */
int wh_identity_resolve(wh_identity_t *out, const char *user, const char *group, bool initgroups,
                        char *err, size_t err_size);

/* In a worker: switches group(s), then user. 0, or -1 with err set. */
int wh_identity_apply(const wh_identity_t *id, char *err, size_t err_size);

/* A Unix socket this process created: mode 0777 & ~umask (gunicorn's, so a front proxy
 * running as another user can connect), owned by the identity's user and group. */
int wh_identity_socket(const wh_identity_t *id, const char *path, int umask_bits, char *err,
                       size_t err_size);

#endif
