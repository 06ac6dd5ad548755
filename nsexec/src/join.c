#include "join.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

static int child(struct nsx_ctx *ctx, struct nsx_error *e)
{
	/* without init.cgroups, the runtime places the child and answers `continue` */
	if (!ctx->cgroups.given && nsx_sync_wait_continue(ctx->sync_fd, &ctx->state, e))
		return -1;
	if (ctx->console_sock >= 0 && nsx_console_setup(ctx->console_sock, ctx->process, false, e))
		return -1;
	ctx->console_sock = -1;
	return nsx_container_finish(ctx, e);
}

/* A foreground exec's parent is the monitor the runtime waits on: it dies with the
 * runtime (the exec'd process stays, in the container's cgroups, as with runc). */
static int die_with_runtime(struct nsx_error *e)
{
	pid_t runtime = getppid();

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return nsx_fail(e, "spawn", "prctl", errno, NULL, "set the parent death signal");
	if (getppid() != runtime)
		exit(1);
	return 0;
}

int nsx_join(struct nsx_ctx *ctx, struct nsx_error *e)
{
	const char *state = NULL, *seccomp_cache = NULL;

	/* host paths (console socket, cgroups, seccomp listener and cache)
	 * before the mount namespace changes */
	if (nsx_json_string(ctx->init, "state", &state, e) || nsx_json_string(ctx->init, "seccompCache", &seccomp_cache, e) ||
	    nsx_container_connect_console(ctx, e) || nsx_cgroup_join_open(ctx->cgroups_json, &ctx->cgroups, e) ||
	    nsx_seccomp_prepare_cached(nsx_json_get(ctx->lnx, "seccomp"), seccomp_cache, &ctx->seccomp, e))
		return -1;
	/* with no continue to come, init carries the state the seccomp listener gets */
	if (state && !(ctx->state = strdup(state)))
		return nsx_fail(e, "protocol", "strdup", ENOMEM, NULL, "init state");
	if (ctx->foreground && die_with_runtime(e))
		return -1;
	/* nsx_spawn's first child joins the namespaces and forks the container process */
	ctx->join_pidfd = nsx_ns_open_process((int)ctx->join_pid, e);
	if (ctx->join_pidfd < 0 || nsx_spawn(ctx, 0, e))
		return -1;
	child(ctx, e);
	nsx_child_fail(ctx, e);
}
