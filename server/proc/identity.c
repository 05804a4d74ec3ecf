#include "server/proc/identity.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/core/errmsg.h"

enum { LOOKUP_BUF_MAX = 16384 };

static bool parse_id(const char *text, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(text, &end, 10);
    if (errno || end == text || *end != '\0' || *text == '-')
        return false;
    *out = n;
    return true;
}

static int resolve_user(wh_identity_t *out, const char *user, char *err, size_t err_size)
{
    char buf[LOOKUP_BUF_MAX];
    struct passwd pw, *found = NULL;
    unsigned long n;
    int rc = parse_id(user, &n) ? getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &found)
                                : getpwnam_r(user, &pw, buf, sizeof(buf), &found);
    if (found == NULL && !parse_id(user, &n))
        return wh_errorf(err, err_size, "--user %s: %s", user,
                         rc ? strerror(rc) : "no such user (check /etc/passwd)");
    out->uid = found ? found->pw_uid : (uid_t)n;
    snprintf(out->user_name, sizeof(out->user_name), "%s", found ? found->pw_name : "");
    out->change_uid = true;
    return 0;
}

static int resolve_group(wh_identity_t *out, const char *group, char *err, size_t err_size)
{
    char buf[LOOKUP_BUF_MAX];
    struct group gr, *found = NULL;
    unsigned long n;
    if (parse_id(group, &n)) {
        out->gid = (gid_t)n;
    } else {
        int rc = getgrnam_r(group, &gr, buf, sizeof(buf), &found);
        if (found == NULL)
            return wh_errorf(err, err_size, "--group %s: %s", group,
                             rc ? strerror(rc) : "no such group (check /etc/group)");
        out->gid = found->gr_gid;
    }
    out->change_gid = true;
    return 0;
}

int wh_identity_resolve(wh_identity_t *out, const char *user, const char *group, bool initgroups,
                        char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->initgroups = initgroups;
    if (user && *user && resolve_user(out, user, err, err_size) != 0)
        return -1;
    if (group && *group && resolve_group(out, group, err, err_size) != 0)
        return -1;
    if (geteuid() == 0)
        return 0;
    /* Not root: nothing to switch to; the current identity is fine. */
    if (out->change_uid && out->uid != geteuid())
        return wh_errorf(err, err_size,
                         "--user %s: wsgihost runs as uid %ld, not root, so it cannot switch "
                         "to uid %ld: start it as root (it binds, then drops to the user) or "
                         "as that user, or leave out --user",
                         user, (long)geteuid(), (long)out->uid);
    if (out->change_gid && out->gid != getegid())
        return wh_errorf(err, err_size,
                         "--group %s: wsgihost runs as gid %ld, not root, so it cannot switch "
                         "to gid %ld: start it as root or leave out --group",
                         group, (long)getegid(), (long)out->gid);
    out->change_uid = out->change_gid = false;
    return 0;
}

int wh_identity_apply(const wh_identity_t *id, char *err, size_t err_size)
{
    gid_t gid = id->change_gid ? id->gid : getgid();
    if (id->change_uid || id->change_gid) {
        /* Root's supplementary groups must not follow the workers: the user's (initgroups)
         * or the one group. */
        int rc = id->initgroups && id->user_name[0] ? initgroups(id->user_name, gid)
                                                    : setgroups(1, &gid);
        if (rc != 0)
            return wh_errorf(err, err_size, "cannot set the supplementary groups: %s",
                             strerror(errno));
    }
    if (id->change_gid && setgid(id->gid) != 0)
        return wh_errorf(err, err_size, "cannot switch to gid %ld: %s", (long)id->gid,
                         strerror(errno));
    if (id->change_uid && setuid(id->uid) != 0)
        return wh_errorf(err, err_size, "cannot switch to uid %ld: %s", (long)id->uid,
                         strerror(errno));
    return 0;
}

int wh_identity_socket(const wh_identity_t *id, const char *path, int umask_bits, char *err,
                       size_t err_size)
{
    if (chmod(path, 0777 & ~(mode_t)umask_bits) != 0)
        return wh_errorf(err, err_size, "cannot set the mode of %s: %s", path, strerror(errno));
    if ((id->change_uid || id->change_gid) &&
        chown(path, id->change_uid ? id->uid : (uid_t)-1, id->change_gid ? id->gid : (gid_t)-1))
        return wh_errorf(err, err_size, "cannot give %s to the --user/--group: %s", path,
                         strerror(errno));
    return 0;
}
