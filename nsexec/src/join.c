#include "join.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroupjoin.h"
#include "console.h"
#include "container.h"
#include "jsonutil.h"
#include "namespaces.h"
#include "seccomp.h"
#include "spawn.h"
#include "sync.h"

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

/* With init.cgroups the child is in the container's cgroups already (nsx_spawn)
 * and enters the container's cgroup namespace only now, so that it is rooted as
 * the init's; without, the runtime places it and answers `continue`. */
static int placed(struct nsx_ctx *ctx, int pidfd, struct nsx_error *e)
{
	int rc = 0;

	if (!ctx->cgroups.given)
		rc = nsx_sync_wait_continue(ctx->sync_fd, &ctx->state, e);
	else if (ctx->ns.listed[NSX_NS_CGROUP] && setns(pidfd, CLONE_NEWCGROUP) < 0)
		rc = nsx_fail(e, "namespaces", "setns", errno, NULL, "join cgroup namespace of process %lld",
			      (long long)ctx->join_pid);
	close(pidfd);
	return rc;
}

static int child(struct nsx_ctx *ctx, int pidfd, int host_proc, struct nsx_error *e)
{
	if (host_pid(ctx, host_proc, e) || placed(ctx, pidfd, e))
		return -1;
	if (ctx->console_sock >= 0 && nsx_console_setup(ctx->console_sock, ctx->process, false, e))
		return -1;
	ctx->console_sock = -1;
	return nsx_container_finish(ctx, e);
}

int nsx_join(struct nsx_ctx *ctx, struct nsx_error *e)
{
	const char *state = NULL, *seccomp_cache = NULL;
	int pidfd, host_proc;

	/* host paths (console socket, cgroups, seccomp listener and cache, /proc)
	 * before the mount namespace changes */
	if (nsx_json_string(ctx->init, "state", &state, e) || nsx_json_string(ctx->init, "seccompCache", &seccomp_cache, e) ||
	    nsx_container_connect_console(ctx, e) || nsx_cgroup_join_open(ctx->cgroups_json, &ctx->cgroups, e) ||
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
	/* the cgroup namespace waits for the child (see placed) */
	if (nsx_ns_join_process(&ctx->ns, pidfd, (int)ctx->join_pid, ctx->cgroups.given ? CLONE_NEWCGROUP : 0, e)) {
		close(pidfd);
		return -1;
	}
	/* a fork, so the joined pid and time namespaces apply */
	if (nsx_spawn(ctx, 0, e))
		return -1;
	child(ctx, pidfd, host_proc, e);
	nsx_child_fail(ctx, e);
}
