/* The container process's last stretch, shared by create and exec: the process
 * object, then (create) created + exec fifo + startContainer hooks, then seccomp
 * and the execve. */
#ifndef NSX_CONTAINER_H
#define NSX_CONTAINER_H

#include "ctx.h"

/* Returns only on failure. */
int nsx_container_finish(struct nsx_ctx *ctx, struct nsx_error *e);

/* Before the fork, in both modes: connect the console socket when process.terminal
 * asks for one (a host path, reached as the host's root). */
int nsx_container_connect_console(struct nsx_ctx *ctx, struct nsx_error *e);

#endif
