#include "create.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "console.h"
#include "container.h"
#include "fifo.h"
#include "hooks.h"
#include "jsonutil.h"
#include "pivot.h"
#include "protect.h"
#include "rootfs.h"
#include "seccomp.h"
#include "spawn.h"
#include "sync.h"
#include "sysctl.h"
#include "userns.h"

/* /proc/self/cgroup while it still shows host paths (before the cgroup namespace). */
static int read_self_cgroup(struct nsx_ctx *ctx, struct nsx_error *e)
{
	char buf[8192];
	ssize_t n, len = 0;
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return nsx_fail(e, "cgroup", "open", errno, "/proc/self/cgroup", "read /proc/self/cgroup");
	while (len < (ssize_t)sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	ctx->self_cgroup = strdup(buf);
	return ctx->self_cgroup ? 0 : nsx_fail(e, "cgroup", "strdup", ENOMEM, NULL, "read /proc/self/cgroup");
}

static int set_names(struct nsx_ctx *ctx, struct nsx_error *e)
{
	if (ctx->hostname && sethostname(ctx->hostname, strlen(ctx->hostname)) < 0)
		return nsx_fail(e, "hostname", "sethostname", errno, NULL, "set hostname \"%s\"", ctx->hostname);
	if (ctx->domainname && setdomainname(ctx->domainname, strlen(ctx->domainname)) < 0)
		return nsx_fail(e, "hostname", "setdomainname", errno, NULL, "set domainname \"%s\"", ctx->domainname);
	return 0;
}

/* Without a mount namespace of its own the container's mounts are made in the
 * runtime's (under the rootfs, as runc and crun do); what would remount the
 * host's own mounts is refused (runc: "unable to restrict sys entries"). */
static int host_mount_changes(struct nsx_ctx *ctx, struct nsx_error *e)
{
	json_object *ro = nsx_json_get(ctx->lnx, "readonlyPaths"), *masked = nsx_json_get(ctx->lnx, "maskedPaths");

	if ((ro && json_object_array_length(ro)) || (masked && json_object_array_length(masked)))
		return nsx_fail(e, "rootfs", NULL, 0, NULL, "unable to restrict sys entries without a private MNT namespace");
	if (ctx->rootfs_readonly)
		return nsx_fail(e, "rootfs", NULL, 0, NULL, "unable to make the rootfs read-only without a private MNT namespace");
	return 0;
}

/* Everything up to the sync point: mounts and devices in the new mount namespace. */
static int before_pivot(struct nsx_ctx *ctx, bool in_userns, struct nsx_error *e)
{
	/* a child that did not join its cgroups itself waits for the runtime to place it */
	if (!ctx->cgroups.given && nsx_sync_wait_continue(ctx->sync_fd, NULL, e))
		return -1;
	/* now in the container's cgroup, and a new user namespace has its maps */
	if (in_userns && nsx_userns_become_root(e))
		return -1;
	if (read_self_cgroup(ctx, e) || nsx_ns_unshare_cgroup(&ctx->ns, e))
		return -1;
	if (setsid() < 0)
		return nsx_fail(e, "spawn", "setsid", errno, NULL, "start a session");
	if (nsx_seccomp_prepare(nsx_json_get(ctx->lnx, "seccomp"), &ctx->seccomp, e))
		return -1;
	return nsx_rootfs_prepare(ctx, e);
}

static int child(struct nsx_ctx *ctx, bool in_userns, struct nsx_error *e)
{
	json_object *lnx = ctx->lnx;

	if (before_pivot(ctx, in_userns, e))
		return -1;
	/* the runtime runs prestart and createRuntime hooks meanwhile, and sends the
	 * state hooks and a seccomp listener here need; without either it skips this */
	if (ctx->create_runtime_sync && (nsx_sync_send_str(ctx->sync_fd, "sync", "point", "createRuntime", e) ||
					 nsx_sync_wait_continue(ctx->sync_fd, &ctx->state, e)))
		return -1;
	/* createContainer hooks start in the rootfs (runc's cwd for them: "./lib" is the container's) */
	if (fchdir(ctx->rootfs_fd) < 0)
		return nsx_fail(e, "hooks", "fchdir", errno, ctx->rootfs_real, "enter the rootfs");
	if (nsx_run_hooks(ctx->hooks, "createContainer", ctx->state, NULL, e))
		return -1;
	if (nsx_pivot(ctx->rootfs_fd, ctx->rootfs_real,
		      !ctx->ns.listed[NSX_NS_MNT] ? NSX_ROOT_CHROOT : ctx->no_pivot ? NSX_ROOT_MOVE_CHROOT : NSX_ROOT_PIVOT, e))
		return -1;
	close(ctx->rootfs_fd);
	ctx->rootfs_fd = -1;
	if (ctx->console_sock >= 0 && nsx_console_setup(ctx->console_sock, ctx->process, true, e))
		return -1;
	ctx->console_sock = -1;
	if (ctx->dev_ro_flags && nsx_dev_readonly(ctx->dev_ro_flags, e))
		return -1;
	if (ctx->rootfs_readonly && nsx_root_readonly(e))
		return -1;
	if (set_names(ctx, e) || nsx_set_sysctls(nsx_json_get(lnx, "sysctl"), e))
		return -1;
	if (nsx_readonly_paths(nsx_json_get(lnx, "readonlyPaths"), e) ||
	    nsx_masked_paths(nsx_json_get(lnx, "maskedPaths"), e))
		return -1;
	if (nsx_rootfs_propagate(ctx, e))
		return -1;
	return nsx_container_finish(ctx, e);
}

int nsx_create(struct nsx_ctx *ctx, struct nsx_error *e)
{
	unsigned long flags = nsx_ns_clone_flags(&ctx->ns);

	/* what would otherwise change the host is refused before anything happens */
	if ((ctx->hostname || ctx->domainname) && !ctx->ns.listed[NSX_NS_UTS])
		return nsx_fail(e, "hostname", NULL, 0, NULL, "unable to set %s without a private UTS namespace",
				ctx->hostname ? "hostname" : "domainname");
	if (nsx_sysctl_check(nsx_json_get(ctx->lnx, "sysctl"), &ctx->ns, e))
		return -1;
	if (!ctx->ns.listed[NSX_NS_MNT] && host_mount_changes(ctx, e))
		return -1;
	/* the exec fifo, the console socket, the cgroups and (user namespaces) the bind sources are host paths: reached as the host's
	 * root (a user namespace's root may lack the rights), before any namespace
	 * changes what the paths name; the fifo gets a held writer, see fifo.h */
	if (ctx->exec_fifo && ((ctx->fifo_fd = nsx_fifo_create(ctx->exec_fifo, ctx->lnx, e)) < 0 ||
			       (ctx->fifo_hold_fd = nsx_fifo_hold(ctx->fifo_fd, e)) < 0))
		return -1;
	if (nsx_container_connect_console(ctx, e) || nsx_cgroup_join_open(ctx->cgroups_json, &ctx->cgroups, e) ||
	    nsx_rootfs_open_bind_sources(ctx, e))
		return -1;
	if (nsx_ns_join_paths(&ctx->ns, e) || nsx_ns_unshare_time(&ctx->ns, ctx->lnx, e))
		return -1;
	if (nsx_spawn(ctx, flags, e))
		return -1;
	child(ctx, ctx->ns.listed[NSX_NS_USER], e);
	nsx_child_fail(ctx, e);
}
