#include "ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "jsonutil.h"

int nsx_ctx_load(struct nsx_ctx *ctx, json_object *init, int sync_fd, struct nsx_error *e)
{
	const char *mode = NULL;
	json_object *namespaces = NULL;

	memset(ctx, 0, sizeof(*ctx));
	ctx->init = init;
	ctx->sync_fd = sync_fd;
	ctx->rootfs_fd = ctx->console_sock = ctx->fifo_fd = ctx->fifo_hold_fd = ctx->running_wfd = ctx->join_pidfd = -1;
	ctx->cgroups.v2_dir = ctx->cgroups.v2_procs = -1;
	ctx->create_runtime_sync = true;
	if (nsx_json_string(init, "mode", &mode, e) || nsx_json_bool(init, "foreground", &ctx->foreground, e) ||
	    nsx_json_string(init, "rootfs", &ctx->rootfs, e) || nsx_json_bool(init, "rootfsReadonly", &ctx->rootfs_readonly, e) ||
	    nsx_json_bool(init, "noPivot", &ctx->no_pivot, e) || nsx_json_bool(init, "noNewKeyring", &ctx->no_new_keyring, e) ||
	    nsx_json_string(init, "execFifo", &ctx->exec_fifo, e) ||
	    nsx_json_string(init, "consoleSocket", &ctx->console_socket, e) ||
	    nsx_json_bool(init, "relayTerminal", &ctx->relay_terminal, e) ||
	    nsx_json_int64(init, "preserveFds", &ctx->preserve_fds, e) || nsx_json_string(init, "hostname", &ctx->hostname, e) ||
	    nsx_json_string(init, "domainname", &ctx->domainname, e) || nsx_json_object(init, "process", &ctx->process, e) ||
	    nsx_json_array(init, "mounts", &ctx->mounts, e) || nsx_json_object(init, "linux", &ctx->lnx, e) ||
	    nsx_json_int64(init, "joinPid", &ctx->join_pid, e) || nsx_json_object(init, "hooks", &ctx->hooks, e) ||
	    nsx_json_object(init, "cgroups", &ctx->cgroups_json, e) ||
	    nsx_json_bool(init, "createRuntimeSync", &ctx->create_runtime_sync, e) ||
	    nsx_json_bool(init, "startOnContinue", &ctx->start_on_continue, e))
		return -1;
	if (!mode || (strcmp(mode, "create") && strcmp(mode, "exec")))
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: mode must be \"create\" or \"exec\"");
	ctx->exec_mode = !strcmp(mode, "exec");
	if (!ctx->process)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: process is required");
	if (nsx_json_bool(ctx->process, "terminal", &ctx->terminal, e))
		return -1;
	if (ctx->relay_terminal && (!ctx->foreground || ctx->console_socket))
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: relayTerminal needs foreground and no consoleSocket");
	if (ctx->exec_mode && ctx->join_pid < 1)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: exec needs joinPid");
	if (ctx->preserve_fds < 0 || ctx->preserve_fds > 65536 || sync_fd < 3 + ctx->preserve_fds)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: preserveFds %lld overlaps the sync fd %d",
				(long long)ctx->preserve_fds, sync_fd);
	/* every preserved fd must be open now, or one of ours could take its number
	 * and be handed to the container */
	for (int fd = 3; fd < 3 + ctx->preserve_fds; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return nsx_fail(e, "protocol", "fcntl", errno, NULL, "preserved fd %d is not open", fd);
	if (nsx_json_array(ctx->lnx, "namespaces", &namespaces, e))
		return -1;
	return nsx_ns_plan_load(namespaces, &ctx->ns, e);
}
