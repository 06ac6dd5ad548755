/* A listening unix socket for rocker-monitor's and the shim holder's clients. */
#ifndef ROCKER_UNIX_LISTEN_H
#define ROCKER_UNIX_LISTEN_H

/* Listens at path (a file already there is replaced), mode 0600, non-blocking, close-on-exec;
 * -1 with errno on failure, nothing left open. */
int listen_unix(const char *path, int backlog);

#endif
