/* How rocker-monitor and the shim holder, each a subreaper in its own session, take signals. */
#ifndef ROCKER_CHILD_SIGNALS_H
#define ROCKER_CHILD_SIGNALS_H

/* Ignores SIGPIPE, SIGHUP and SIGINT (a closed client or a gone terminal must not end it),
 * blocks SIGCHLD and returns a non-blocking, close-on-exec signalfd for it; -1 with errno. */
int child_signal_fd(void);

/* In a child about to exec: the default signal state back (a blocked SIGCHLD would hang a Node command). */
void plain_signals(void);

#endif
