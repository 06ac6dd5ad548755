/* Resolving container paths inside the rootfs: openat2(RESOLVE_IN_ROOT) treats the
 * rootfs fd as "/" for every symlink and "..", and magic links are refused, so no
 * path from the config can name anything outside the rootfs. */
#ifndef NSX_PATHRES_H
#define NSX_PATHRES_H

#include <sys/types.h>
#include "error.h"

/* openat2(rootfd, path, flags | O_CLOEXEC) confined to rootfd. errno on failure. */
int nsx_root_open(int rootfd, const char *path, int flags);

/* Creates every missing directory of path (mode, subject to umask) and returns an
 * O_PATH fd of the final directory. */
int nsx_root_mkdir_all(int rootfd, const char *path, mode_t mode, const char *stage, struct nsx_error *e);

/* Returns an O_PATH fd of path, creating it when missing: a directory when dir is
 * true, else an empty regular file (its parents as directories). */
int nsx_root_ensure(int rootfd, const char *path, int dir, const char *stage, struct nsx_error *e);

/* Splits path into its parent (returned as an O_PATH dir fd, created if missing) and
 * its last component (copied into base). */
int nsx_root_parent(int rootfd, const char *path, char *base, size_t basesz, const char *stage,
		    struct nsx_error *e);

/* "/proc/self/fd/<fd>": how every mount call names an fd. */
const char *nsx_fdpath(int fd, char buf[static 32]);

#endif
