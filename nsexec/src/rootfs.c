#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroupmount.h"
#include "devices.h"
#include "jsonutil.h"
#include "mounts.h"
#include "pathres.h"

/* rootfsPropagation as mount flags; *name stays NULL when it is not set. */
static int configured_propagation(json_object *lnx, const char **name, unsigned long *flags, struct nsx_error *e)
{
	*name = NULL;
	if (nsx_json_string(lnx, "rootfsPropagation", name, e))
		return -1;
	if (*name && !**name)
		*name = NULL;
	if (*name && !nsx_propagation_flags(*name, flags))
		return nsx_fail(e, "rootfs", NULL, 0, NULL, "invalid rootfsPropagation \"%s\"", *name);
	return 0;
}

static int root_propagation(json_object *lnx, unsigned long *flags, struct nsx_error *e)
{
	const char *p;

	*flags = MS_SLAVE | MS_REC; /* nothing the container mounts leaks to the host */
	return configured_propagation(lnx, &p, flags, e);
}

int nsx_rootfs_propagate(const struct nsx_ctx *ctx, struct nsx_error *e)
{
	const char *p;
	unsigned long flags;

	if (!ctx->ns.listed[NSX_NS_MNT]) /* "/" is the host's own */
		return 0;
	if (configured_propagation(ctx->lnx, &p, &flags, e))
		return -1;
	if (p && mount(NULL, "/", NULL, flags, NULL) < 0)
		return nsx_fail(e, "rootfs", "mount", errno, "/", "make the container's root %s", p);
	return 0;
}

static int mount_id(const char *path, __u64 *id)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
		return -1;
	*id = sx.stx_mnt_id;
	return 0;
}

/* pivot_root refuses a new root whose parent mount is shared, and our bind of the
 * rootfs must not propagate anywhere: make the mount holding the rootfs private. */
static int make_parent_mount_private(const char *rootfs, struct nsx_error *e)
{
	char p[PATH_MAX], up[PATH_MAX];
	__u64 here, above;

	snprintf(p, sizeof(p), "%s", rootfs);
	while (strcmp(p, "/")) {
		char *slash;

		snprintf(up, sizeof(up), "%s", p);
		slash = strrchr(up, '/');
		if (slash == up)
			up[1] = '\0';
		else
			*slash = '\0';
		if (mount_id(p, &here) < 0 || mount_id(up, &above) < 0)
			return nsx_fail(e, "rootfs", "statx", errno, p, "find the mount of the rootfs");
		if (here != above)
			break;
		snprintf(p, sizeof(p), "%s", up);
	}
	if (mount(NULL, p, NULL, MS_PRIVATE, NULL) < 0)
		return nsx_fail(e, "rootfs", "mount", errno, p, "make %s private", p);
	return 0;
}

static bool dev_is_bind_mounted(json_object *mounts)
{
	size_t n = mounts ? json_object_array_length(mounts) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(mounts, i);
		const char *dest = json_object_get_string(nsx_json_get(m, "destination"));
		if (dest && !strcmp(dest, "/dev") && nsx_mount_is_bind(m))
			return true;
	}
	return false;
}

int nsx_rootfs_open_bind_sources(struct nsx_ctx *ctx, struct nsx_error *e)
{
	size_t n = ctx->mounts ? json_object_array_length(ctx->mounts) : 0;

	/* only for a new user namespace with a new mount namespace: in a joined mount
	 * namespace the sources are its paths, not the host's */
	if (ctx->exec_mode || !n || !ctx->ns.listed[NSX_NS_USER] || ctx->ns.path[NSX_NS_USER] ||
	    !ctx->ns.listed[NSX_NS_MNT] || ctx->ns.path[NSX_NS_MNT])
		return 0;
	ctx->bind_trees = malloc(n * sizeof(*ctx->bind_trees));
	if (!ctx->bind_trees)
		return nsx_fail(e, "mount", "malloc", ENOMEM, NULL, "open the bind mount sources");
	for (size_t i = 0; i < n; i++)
		ctx->bind_trees[i] = -1;
	for (size_t i = 0; i < n; i++) {
		int fd = nsx_mount_source_tree(json_object_array_get_idx(ctx->mounts, i), e);

		if (fd == -1) {
			nsx_rootfs_close_bind_sources(ctx);
			return -1;
		}
		ctx->bind_trees[i] = fd < 0 ? -1 : fd;
	}
	return 0;
}

void nsx_rootfs_close_bind_sources(struct nsx_ctx *ctx)
{
	size_t n = ctx->mounts ? json_object_array_length(ctx->mounts) : 0;

	for (size_t i = 0; ctx->bind_trees && i < n; i++)
		if (ctx->bind_trees[i] >= 0)
			close(ctx->bind_trees[i]);
	free(ctx->bind_trees);
	ctx->bind_trees = NULL;
}

static int mount_all(struct nsx_ctx *ctx, struct nsx_error *e)
{
	struct nsx_mount_target t = { .rootfd = ctx->rootfs_fd, .rootfs = ctx->rootfs_real, .dev_ro_flags = &ctx->dev_ro_flags };
	size_t n = ctx->mounts ? json_object_array_length(ctx->mounts) : 0;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		json_object *m = json_object_array_get_idx(ctx->mounts, i);
		const char *type = json_object_get_string(nsx_json_get(m, "type"));

		if (type && !strcmp(type, "cgroup") && !nsx_mount_is_bind(m))
			rc = nsx_cgroup_mount(&t, m, ctx->self_cgroup,
					      ctx->ns.listed[NSX_NS_CGROUP] && !ctx->ns.path[NSX_NS_CGROUP], e);
		else
			rc = nsx_mount_entry(&t, m, ctx->bind_trees ? ctx->bind_trees[i] : -1, e);
	}
	/* attached or not needed any more: none of them may reach the container */
	nsx_rootfs_close_bind_sources(ctx);
	return rc ? -1 : 0;
}

int nsx_rootfs_prepare(struct nsx_ctx *ctx, struct nsx_error *e)
{
	unsigned long prop;
	const char *cwd = NULL;
	char p[32];
	int fd;

	if (!ctx->rootfs)
		return nsx_fail(e, "rootfs", NULL, 0, NULL, "invalid init message: rootfs is required");
	umask(0); /* modes below are exact; process.user.umask applies before exec */
	ctx->rootfs_real = realpath(ctx->rootfs, NULL);
	if (!ctx->rootfs_real)
		return nsx_fail(e, "rootfs", "realpath", errno, ctx->rootfs, "resolve rootfs %s", ctx->rootfs);
	/* in the runtime's own mount namespace (none of the container's) the host's
	 * propagation and the rootfs stay as they are: the mounts go under it */
	if (ctx->ns.listed[NSX_NS_MNT]) {
		if (root_propagation(ctx->lnx, &prop, e))
			return -1;
		if (mount(NULL, "/", NULL, prop, NULL) < 0)
			return nsx_fail(e, "rootfs", "mount", errno, "/", "set propagation of /");
		if (make_parent_mount_private(ctx->rootfs_real, e))
			return -1;
		fd = open(ctx->rootfs_real, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return nsx_fail(e, "rootfs", "open", errno, ctx->rootfs_real, "open rootfs %s", ctx->rootfs_real);
		if (mount(nsx_fdpath(fd, p), nsx_fdpath(fd, p), NULL, MS_BIND | MS_REC, NULL) < 0) {
			int err = errno;
			close(fd);
			return nsx_fail(e, "rootfs", "mount", err, ctx->rootfs_real, "bind rootfs %s onto itself", ctx->rootfs_real);
		}
		close(fd);
	}
	/* reopened, the path now names the new bind mount, where everything else goes */
	ctx->rootfs_fd = open(ctx->rootfs_real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfs_fd < 0)
		return nsx_fail(e, "rootfs", "open", errno, ctx->rootfs_real, "open rootfs %s", ctx->rootfs_real);
	if (mount_all(ctx, e))
		return -1;
	if (!dev_is_bind_mounted(ctx->mounts) && nsx_devices_create(ctx->rootfs_fd, nsx_json_get(ctx->lnx, "devices"), e))
		return -1;
	if (nsx_json_string(ctx->process, "cwd", &cwd, e))
		return -1;
	if (cwd && *cwd) {
		fd = nsx_root_mkdir_all(ctx->rootfs_fd, cwd, 0755, "rootfs", e);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return 0;
}
