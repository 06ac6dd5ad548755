/* The foreground parent: reports running and exit, and with relayTerminal copies
 * between its own fds 0/1 and the container's pty master. */
#ifndef NSX_MONITOR_H
#define NSX_MONITOR_H

#include <sys/types.h>
#include "ctx.h"

/* running_rfd: read end of the child's close-on-exec "running" pipe; relay_sock:
 * the parent's end of the pair the child sends the pty master over, or -1. Exits. */
void nsx_monitor(struct nsx_ctx *ctx, pid_t child, int running_rfd, int relay_sock) __attribute__((noreturn));

#endif
