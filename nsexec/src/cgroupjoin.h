/* init.cgroups: the container process places itself in the container's cgroups
 * right after the clone, so neither the runtime nor nsexec's parent ever joins
 * them and no round trip is spent on it.
 *
 * Why not the runtime writing the pid to cgroup.procs: moving a whole thread group
 * takes the kernel's global cgroup_threadgroup_rwsem for writing, which waits for
 * an RCU grace period (~10 ms here). Moving only the calling thread skips that
 * lock, so the single-threaded child writes "0" to each v1 hierarchy's `tasks`
 * file; in the cgroup2 tree, where a process moves as a whole, the clone itself
 * lands in the cgroup (clone3 CLONE_INTO_CGROUP), which takes no write lock. */
#ifndef NSX_CGROUPJOIN_H
#define NSX_CGROUPJOIN_H

#include <stdbool.h>
#include <json-c/json.h>
#include "error.h"

#define NSX_CGROUP_V1_MAX 32

struct nsx_cgroup_join {
	bool given;                      /* init has "cgroups" */
	const char *v1_dir[NSX_CGROUP_V1_MAX]; /* one directory per v1 hierarchy (owned by the init message) */
	int v1_tasks[NSX_CGROUP_V1_MAX];       /* its `tasks`, open for writing */
	int n_v1;
	const char *v2;                        /* the cgroup2 directory, or NULL */
	int v2_dir;                            /* O_PATH fd of it (CLONE_INTO_CGROUP), or -1 */
	int v2_procs;                          /* its cgroup.procs, for when the clone could not land there, or -1 */
};

/* Opens everything init.cgroups names ({"v1": [dirs], "unified": dir}), as the
 * host's root and before any namespace changes what the paths name: the kernel
 * checks a cgroup write against the credentials the file was opened with. */
int nsx_cgroup_join_open(json_object *cgroups, struct nsx_cgroup_join *j, struct nsx_error *e);

/* The parent after the clone (in_v2: the clone landed in the cgroup2 directory):
 * only the child keeps the fds. */
void nsx_cgroup_join_close(struct nsx_cgroup_join *j);

/* The child, first thing after the clone: joins every v1 hierarchy and, unless
 * the clone landed there, the cgroup2 directory; then closes the fds. */
int nsx_cgroup_join_self(struct nsx_cgroup_join *j, bool in_v2, struct nsx_error *e);

#endif
