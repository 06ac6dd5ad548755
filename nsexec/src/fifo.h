/* The exec fifo: `create` ends with the container blocked opening it for writing;
 * `start` opening it for reading lets the container go on to exec. */
#ifndef NSX_FIFO_H
#define NSX_FIFO_H

#include "error.h"

/* O_PATH fd of the fifo (a host path: call before pivot_root). */
int nsx_fifo_open(const char *path, struct nsx_error *e);

/* Blocks until start reads, writes one byte and closes fd; the write end stays
 * open until the execve closes it. */
int nsx_fifo_wait(int fd, struct nsx_error *e);

#endif
