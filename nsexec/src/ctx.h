/* Everything nsexec knows about the container it is setting up: the decoded init
 * message plus the fds and state gathered along the way. One instance per process. */
#ifndef NSX_CTX_H
#define NSX_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "cgroupjoin.h"
#include "error.h"
#include "namespaces.h"

struct nsx_seccomp;

struct nsx_ctx {
	json_object *init;      /* owns every json_object pointer below */
	int sync_fd;            /* the protocol socket (CLOEXEC) */
	bool exec_mode;         /* "exec": join joinPid; else "create" */
	bool foreground;        /* the parent stays as monitor */

	/* create */
	const char *rootfs;     /* as given; rootfs_real is its canonical form */
	char *rootfs_real;
	bool rootfs_readonly, no_pivot, no_new_keyring;
	const char *exec_fifo, *hostname, *domainname;
	json_object *mounts, *hooks;
	bool create_runtime_sync; /* stop at createRuntime for `continue` (default true) */
	bool start_on_continue;   /* after `created`, wait for `continue` (foreground run) */

	/* both */
	const char *console_socket;
	bool terminal;          /* process.terminal */
	bool relay_terminal;    /* foreground: the parent relays the pty (no console socket) */
	int64_t preserve_fds;
	int64_t join_pid;
	json_object *process, *lnx;
	struct nsx_ns_plan ns;
	json_object *cgroups_json; /* init.cgroups, or NULL: the runtime places the child */

	/* gathered while running */
	int rootfs_fd;          /* O_PATH dir fd of the rootfs (its own bind mount) */
	unsigned long dev_ro_flags; /* a read-only /dev's mount flags, remounted with them last; or 0 */
	int console_sock;       /* connected console socket, or -1 */
	int fifo_fd;            /* O_PATH fd of the exec fifo, or -1 */
	int fifo_hold_fd;       /* the write end held until execve (child only), or -1 */
	int running_wfd;        /* foreground: write end of the "exec'd" pipe, or -1 */
	int64_t host_pid;       /* exec child: its pid as the host sees it (seccomp listener), or 0 */
	int join_pidfd;         /* exec: pidfd of join_pid, held by the parent and the first child only, or -1 */
	char *state;            /* OCI state JSON from the last continue, or NULL */
	char *self_cgroup;      /* /proc/self/cgroup as the host sees it (create) */
	struct nsx_seccomp *seccomp;
	struct nsx_cgroup_join cgroups; /* opened from cgroups_json before any namespace is joined */
	int *bind_trees;        /* user namespaces: mounts[i]'s bind source, opened on the host side
				 * (nsx_mount_source_tree), or -1; NULL when the child opens them */
};

/* Fills ctx from the init message (type checks only; the runtime validated it
 * against the schema). */
int nsx_ctx_load(struct nsx_ctx *ctx, json_object *init, int sync_fd, struct nsx_error *e);

#endif
