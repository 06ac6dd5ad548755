#include "join.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "console.h"
#include "container.h"
#include "jsonutil.h"
#include "namespaces.h"
#include "seccomp.h"
#include "spawn.h"
#include "sync.h"

#define MAX_CGROUPS 32

/* init.cgroups: the container's cgroup directories, opened on the host before any
 * namespace is joined. The fork starts in the first cgroup2 one; the child moves
 * itself into every other one by writing "0" (itself) to `tasks` (v1) or
 * `cgroup.procs` (further cgroup2 dirs). A single thread moving itself through
 * `tasks` skips the kernel's threadgroup lock, whose write side waits for an RCU
 * grace period (5-20 ms) on every migration of a whole process. */
struct cgroup_join {
	bool requested;              /* init had "cgroups": nsexec places the child, no continue */
	int files[MAX_CGROUPS];
	size_t nfiles;
};

static int open_cgroups(struct nsx_ctx *ctx, struct cgroup_join *cj, struct nsx_error *e)
{
	json_object *dirs = NULL;
	size_t n;

	if (nsx_json_array(ctx->init, "cgroups", &dirs, e))
		return -1;
	cj->requested = dirs != NULL;
	n = dirs ? json_object_array_length(dirs) : 0;
	if (n > MAX_CGROUPS)
		return nsx_fail(e, "cgroup", NULL, 0, NULL, "too many cgroup directories (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(dirs, i);
		const char *dir = json_object_is_type(d, json_type_string) ? json_object_get_string(d) : NULL;
		char path[PATH_MAX];
		struct statfs sfs;
		int dfd, fd;

		if (!dir || dir[0] != '/')
			return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: cgroups[%zu] must be an absolute path", i);
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return nsx_fail(e, "cgroup", "open", errno, dir, "open cgroup %s", dir);
		if (fstatfs(dfd, &sfs) < 0) {
			close(dfd);
			return nsx_fail(e, "cgroup", "fstatfs", errno, dir, "open cgroup %s", dir);
		}
		if (sfs.f_type == CGROUP2_SUPER_MAGIC && ctx->cgroup_fd < 0) {
			ctx->cgroup_fd = dfd;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, sfs.f_type == CGROUP2_SUPER_MAGIC ? "cgroup.procs" : "tasks");
		fd = openat(dfd, sfs.f_type == CGROUP2_SUPER_MAGIC ? "cgroup.procs" : "tasks", O_WRONLY | O_CLOEXEC);
		close(dfd);
		if (fd < 0)
			return nsx_fail(e, "cgroup", "open", errno, path, "open %s", path);
		cj->files[cj->nfiles++] = fd;
	}
	return 0;
}

/* In the child, before anything else: the rest of the container's cgroups, then
 * its cgroup namespace (rooted as the container's, entered only once placed). */
static int enter_cgroups(struct nsx_ctx *ctx, struct cgroup_join *cj, int pidfd, struct nsx_error *e)
{
	int rc = 0;

	for (size_t i = 0; i < cj->nfiles; i++) {
		if (!rc && write(cj->files[i], "0", 1) != 1)
			rc = nsx_fail(e, "cgroup", "write", errno, NULL, "join the container's cgroup");
		close(cj->files[i]);
	}
	if (ctx->cgroup_fd >= 0)
		close(ctx->cgroup_fd);
	ctx->cgroup_fd = -1;
	if (!rc && ctx->ns.listed[NSX_NS_CGROUP] && setns(pidfd, CLONE_NEWCGROUP) < 0)
		rc = nsx_fail(e, "namespaces", "setns", errno, NULL, "join cgroup namespace of process %lld",
			      (long long)ctx->join_pid);
	close(pidfd);
	return rc;
}

/* The child's pid in the host's pid namespace (for a seccomp listener), read
 * through the host's /proc: "self" there names us as that procfs sees us. */
static int host_pid(struct nsx_ctx *ctx, int host_proc, struct nsx_error *e)
{
	char buf[32];
	ssize_t n = readlinkat(host_proc, "self", buf, sizeof(buf) - 1);

	close(host_proc);
	if (n <= 0)
		return nsx_fail(e, "namespaces", "readlinkat", n < 0 ? errno : EINVAL, "/proc/self", "find the host pid");
	buf[n] = '\0';
	ctx->host_pid = strtoll(buf, NULL, 10);
	return 0;
}

static int child(struct nsx_ctx *ctx, struct cgroup_join *cj, int pidfd, int host_proc, struct nsx_error *e)
{
	if (host_pid(ctx, host_proc, e))
		return -1;
	if (cj->requested) {
		if (enter_cgroups(ctx, cj, pidfd, e))
			return -1;
	} else {
		close(pidfd);
		/* the runtime puts us in the container's cgroup meanwhile */
		if (nsx_sync_wait_continue(ctx->sync_fd, &ctx->state, e))
			return -1;
	}
	if (ctx->console_sock >= 0 && nsx_console_setup(ctx->console_sock, ctx->process, false, e))
		return -1;
	ctx->console_sock = -1;
	return nsx_container_finish(ctx, e);
}

int nsx_join(struct nsx_ctx *ctx, struct nsx_error *e)
{
	struct cgroup_join cj = { 0 };
	const char *state = NULL, *seccomp_cache = NULL;
	int pidfd, host_proc;

	/* host paths (cgroups, console socket, seccomp listener and cache, /proc)
	 * before the mount namespace changes */
	if (open_cgroups(ctx, &cj, e) || nsx_json_string(ctx->init, "state", &state, e) ||
	    nsx_json_string(ctx->init, "seccompCache", &seccomp_cache, e) || nsx_container_connect_console(ctx, e) ||
	    nsx_seccomp_prepare_cached(nsx_json_get(ctx->lnx, "seccomp"), seccomp_cache, &ctx->seccomp, e))
		return -1;
	/* with no continue to come, init carries the state the seccomp listener gets */
	if (state && !(ctx->state = strdup(state)))
		return nsx_fail(e, "protocol", "strdup", ENOMEM, NULL, "init state");
	host_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (host_proc < 0)
		return nsx_fail(e, "namespaces", "open", errno, "/proc", "open the host's /proc");
	pidfd = nsx_ns_open_process((int)ctx->join_pid, e);
	if (pidfd < 0)
		return -1;
	/* the cgroup namespace waits for the child: joined before the move, it would
	 * hide the container's cgroups from the mover */
	if (nsx_ns_join_process(&ctx->ns, pidfd, (int)ctx->join_pid, cj.requested ? CLONE_NEWCGROUP : 0, e)) {
		close(pidfd);
		return -1;
	}
	/* a fork, so the joined pid and time namespaces apply */
	if (nsx_spawn(ctx, 0, e))
		return -1;
	child(ctx, &cj, pidfd, host_proc, e);
	nsx_child_fail(ctx, e);
}
