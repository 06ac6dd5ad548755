#include "join.h"

#include "console.h"
#include "container.h"
#include "jsonutil.h"
#include "seccomp.h"
#include "spawn.h"
#include "sync.h"

static int child(struct nsx_ctx *ctx, struct nsx_error *e)
{
	/* the runtime puts us in the container's cgroup meanwhile, unless we joined it
	 * ourselves; the state comes along */
	if (nsx_sync_wait_continue(ctx->sync_fd, &ctx->state, e))
		return -1;
	if (ctx->console_sock >= 0 && nsx_console_setup(ctx->console_sock, ctx->process, false, e))
		return -1;
	ctx->console_sock = -1;
	return nsx_container_finish(ctx, e);
}

int nsx_join(struct nsx_ctx *ctx, struct nsx_error *e)
{
	/* host paths (console socket, cgroups, seccomp listener) before the mount namespace changes */
	if (nsx_container_connect_console(ctx, e) || nsx_cgroup_join_open(ctx->cgroups_json, &ctx->cgroups, e) ||
	    nsx_seccomp_prepare(nsx_json_get(ctx->lnx, "seccomp"), &ctx->seccomp, e))
		return -1;
	if (nsx_ns_join_process(&ctx->ns, (int)ctx->join_pid, e))
		return -1;
	/* a fork, so the joined pid and time namespaces apply */
	if (nsx_spawn(ctx, 0, e))
		return -1;
	child(ctx, e);
	nsx_child_fail(ctx, e);
}
