/* The exec fifo: `create` ends with the container blocked opening it for writing;
 * `start` opening it for reading lets the container go on to exec. */
#ifndef NSX_FIFO_H
#define NSX_FIFO_H

#include <json-c/json.h>
#include "error.h"

/* Makes the fifo at `path` (which must not exist yet) with mode 0622 whatever the
 * umask, owned by the host ids of the container's root (linux.uidMappings /
 * gidMappings of `lnx`; 0 without), as runc does, and returns an O_PATH fd of it.
 * A host path: call before any namespace changes. */
int nsx_fifo_create(const char *path, json_object *lnx, struct nsx_error *e);

/* Takes a write end of the fifo right away (through a momentary read end of our
 * own, so nothing blocks) and returns it; it stays open, close-on-exec, until the
 * execve. With a writer always present, `start` reading the fifo with O_NONBLOCK
 * sees "no data yet" rather than EOF however early it comes after `created`, and
 * EOF exactly when the container has exec'd or died. Call as the host's root,
 * which may read the fifo (mode 0622: the container's user may only write). */
int nsx_fifo_hold(int fd, struct nsx_error *e);

/* Blocks until start opens the fifo for reading, then writes one byte; that write
 * end also stays open until the execve. */
int nsx_fifo_wait(int fd, struct nsx_error *e);

#endif
