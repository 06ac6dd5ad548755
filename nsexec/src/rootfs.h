/* The container's filesystem before pivot_root: root propagation, the rootfs bind,
 * every config mount, /dev and the cwd. */
#ifndef NSX_ROOTFS_H
#define NSX_ROOTFS_H

#include "ctx.h"

/* With a new user namespace (and mount namespace), opens every bind source into
 * ctx->bind_trees while nsexec is still the host's root: call before any namespace
 * is joined or created. */
int nsx_rootfs_open_bind_sources(struct nsx_ctx *ctx, struct nsx_error *e);

/* Closes what nsx_rootfs_open_bind_sources opened (the parent, once the child has its copies). */
void nsx_rootfs_close_bind_sources(struct nsx_ctx *ctx);

/* Sets ctx->rootfs_real and ctx->rootfs_fd. */
int nsx_rootfs_prepare(struct nsx_ctx *ctx, struct nsx_error *e);

/* At the end, after pivot_root and the read-only and masked paths (binds that an
 * unbindable root would refuse): "/", now the rootfs mount, gets rootfsPropagation
 * (shared: a peer group of its own; unbindable: no bind of it), as crun does. The
 * same value was applied to the mount namespace's "/" before the rootfs bind, as
 * runc does, so that rshared/rslave bind mounts see the host's peers. */
int nsx_rootfs_propagate(const struct nsx_ctx *ctx, struct nsx_error *e);

#endif
