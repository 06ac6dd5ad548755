/* process.terminal: a pty from the container's own devpts whose master goes to the
 * console socket and whose slave becomes the controlling tty and fds 0-2. */
#ifndef NSX_CONSOLE_H
#define NSX_CONSOLE_H

#include <stdbool.h>
#include <json-c/json.h>
#include "error.h"

/* Connects to the console socket (a host path: call before pivot_root/setns). */
int nsx_console_connect(const char *path, struct nsx_error *e);

/* Opens the pty in the current root's /dev/pts (its own devpts instance), sizes it per process.consoleSize,
 * binds the slave on /dev/console when bind_console, sends the master over sock and
 * closes it and sock; the slave becomes the controlling tty and stdio. */
int nsx_console_setup(int sock, json_object *process, bool bind_console, struct nsx_error *e);

#endif
