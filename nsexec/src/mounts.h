/* One OCI mount entry: option parsing and the mount calls, always aimed at an fd
 * resolved inside the rootfs. */
#ifndef NSX_MOUNTS_H
#define NSX_MOUNTS_H

#include <stdbool.h>
#include <json-c/json.h>
#include "error.h"

struct nsx_mount_target {
	int rootfd;             /* the rootfs (its own bind mount) */
	const char *rootfs;     /* its canonical host path, for the containment check */
	unsigned long *dev_ro_flags; /* set to a read-only /dev mount's flags: mounted rw, made ro at the end */
};

/* Mounts m (an element of "mounts") onto its destination inside the rootfs. tree:
 * a bind's source from nsx_mount_source_tree (then attached as it is), or -1. */
int nsx_mount_entry(const struct nsx_mount_target *t, json_object *m, int tree, struct nsx_error *e);

/* For a user namespace, whose root may be refused a path to a bind source that the
 * host's root can reach (runc 1.1 does the same with the source's fd): the source
 * of bind mount m as a detached copy (open_tree, recursive for rbind), made by the
 * host's root before any namespace is entered, and rslave as the mount namespace's
 * copy of it would be. Returns the fd, NSX_NOT_BIND when m is not a bind mount, -1
 * with *e set on failure. */
#define NSX_NOT_BIND (-2)
int nsx_mount_source_tree(json_object *m, struct nsx_error *e);

/* Remounts the mount at fd (an fd of its root) as a bind with flags, adding the
 * flags the kernel keeps locked (nosuid, nodev, noexec, atime) when it refuses. */
int nsx_remount_bind(int fd, unsigned long flags, const char *shown, const char *stage, struct nsx_error *e);

/* The MS_* flags of a propagation option ("rslave", "private", ...); false when
 * name is none. */
bool nsx_propagation_flags(const char *name, unsigned long *flags);

/* True when the mount entry's options contain bind or rbind or its type is "bind". */
bool nsx_mount_is_bind(json_object *m);

#endif
