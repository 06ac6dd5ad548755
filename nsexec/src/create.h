/* mode "create": new namespaces, the rootfs, and the container's init process. */
#ifndef NSX_CREATE_H
#define NSX_CREATE_H

#include "ctx.h"

/* Returns only on failure before the fork; afterwards the parent and child exit
 * on their own. */
int nsx_create(struct nsx_ctx *ctx, struct nsx_error *e);

#endif
