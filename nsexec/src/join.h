/* mode "exec": a new process in the namespaces of a running container. */
#ifndef NSX_JOIN_H
#define NSX_JOIN_H

#include "ctx.h"

/* Returns only on failure before the fork. */
int nsx_join(struct nsx_ctx *ctx, struct nsx_error *e);

#endif
