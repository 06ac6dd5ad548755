/* The fork into the container process and the parent's part afterwards: uid/gid
 * maps, the pid event, and (foreground) the running/exit events. */
#ifndef NSX_SPAWN_H
#define NSX_SPAWN_H

#include "ctx.h"

/* Clones with clone_flags. Returns 0 in the child (which then owns
 * ctx->running_wfd); in the parent it never returns: it does its part and exits.
 * exec mode: the child is forked by a first child that joins the
 * cgroups and the namespaces, so it is born in the container holding no host fd. */
int nsx_spawn(struct nsx_ctx *ctx, unsigned long clone_flags, struct nsx_error *e);

/* The child's failure path: tells a foreground parent not to report running,
 * sends the error event and exits 1. */
void nsx_child_fail(struct nsx_ctx *ctx, const struct nsx_error *e) __attribute__((noreturn));

#endif
