/* Making the prepared rootfs the root: pivot_root, or MS_MOVE + chroot (noPivot). */
#ifndef NSX_PIVOT_H
#define NSX_PIVOT_H

#include <stdbool.h>
#include "error.h"

int nsx_pivot(int rootfd, bool no_pivot, struct nsx_error *e);

#endif
