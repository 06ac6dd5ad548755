/* Making the prepared rootfs the root: pivot_root, or MS_MOVE + chroot (noPivot),
 * or chroot alone for a container without a mount namespace of its own (runc, crun). */
#ifndef NSX_PIVOT_H
#define NSX_PIVOT_H

#include <stdbool.h>
#include "error.h"

enum nsx_root_switch { NSX_ROOT_PIVOT, NSX_ROOT_MOVE_CHROOT, NSX_ROOT_CHROOT };

/* rootfs: its real path (what MS_MOVE + chroot keeps full proc/sysfs mounts outside of) */
int nsx_pivot(int rootfd, const char *rootfs, enum nsx_root_switch how, struct nsx_error *e);

#endif
