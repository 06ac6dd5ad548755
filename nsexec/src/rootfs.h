/* The container's filesystem before pivot_root: root propagation, the rootfs bind,
 * every config mount, /dev and the cwd. */
#ifndef NSX_ROOTFS_H
#define NSX_ROOTFS_H

#include "ctx.h"

/* Sets ctx->rootfs_real and ctx->rootfs_fd. */
int nsx_rootfs_prepare(struct nsx_ctx *ctx, struct nsx_error *e);

#endif
