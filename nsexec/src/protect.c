#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "mounts.h"
#include "pathres.h"

/* After pivot_root, "/" is the container and in-root resolution still refuses
 * magic links (a path through /proc/<pid>/root must not lead out). */
static int open_root(struct nsx_error *e)
{
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		nsx_fail(e, "rootfs", "open", errno, "/", "open the container root");
	return fd;
}

typedef int (*path_fn)(int rootfd, int fd, const char *path, void *arg, struct nsx_error *e);

/* Calls fn for every path that exists; a missing one is skipped as the spec asks. */
static int each_path(json_object *paths, const char *stage, path_fn fn, void *arg, struct nsx_error *e)
{
	size_t n = paths ? json_object_array_length(paths) : 0;
	int rootfd, rc = 0;

	if (!n)
		return 0;
	rootfd = open_root(e);
	if (rootfd < 0)
		return -1;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(paths, i));
		int fd;

		if (!p || !*p)
			continue;
		fd = nsx_root_open(rootfd, p, O_PATH);
		if (fd < 0) {
			if (errno != ENOENT)
				rc = nsx_fail(e, stage, "openat2", errno, p, "open %s", p);
			continue;
		}
		rc = fn(rootfd, fd, p, arg, e);
		close(fd);
	}
	close(rootfd);
	return rc;
}

static int readonly_one(int rootfd, int fd, const char *path, void *arg, struct nsx_error *e)
{
	char p[32];
	int again, rc;

	(void)arg;
	if (mount(nsx_fdpath(fd, p), p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return nsx_fail(e, "readonlyPaths", "mount", errno, path, "bind %s onto itself", path);
	again = nsx_root_open(rootfd, path, O_PATH);
	if (again < 0)
		return nsx_fail(e, "readonlyPaths", "openat2", errno, path, "reopen %s", path);
	rc = nsx_remount_bind(again, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC, path, "readonlyPaths", e);
	close(again);
	return rc;
}

int nsx_readonly_paths(json_object *paths, struct nsx_error *e)
{
	return each_path(paths, "readonlyPaths", readonly_one, NULL, e);
}

static int mask_one(int rootfd, int fd, const char *path, void *arg, struct nsx_error *e)
{
	int devnull = *(int *)arg;
	char p[32], np[32];
	struct stat st;

	(void)rootfd;
	if (fstat(fd, &st) < 0)
		return nsx_fail(e, "maskedPaths", "fstat", errno, path, "stat %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", nsx_fdpath(fd, p), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k,mode=0555") < 0)
			return nsx_fail(e, "maskedPaths", "mount", errno, path, "mask %s", path);
		return 0;
	}
	if (mount(nsx_fdpath(devnull, np), nsx_fdpath(fd, p), NULL, MS_BIND, NULL) < 0)
		return nsx_fail(e, "maskedPaths", "mount", errno, path, "mask %s", path);
	return 0;
}

int nsx_masked_paths(json_object *paths, struct nsx_error *e)
{
	struct stat st;
	int devnull, rc;

	if (!paths || !json_object_array_length(paths))
		return 0;
	/* the container's /dev/null: it must really be the null device, or a mask
	 * would expose whatever stands there */
	devnull = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (devnull < 0)
		return nsx_fail(e, "maskedPaths", "open", errno, "/dev/null", "open /dev/null");
	if (fstat(devnull, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(devnull);
		return nsx_fail(e, "maskedPaths", NULL, 0, "/dev/null", "/dev/null is not the null device (char 1:3)");
	}
	rc = each_path(paths, "maskedPaths", mask_one, &devnull, e);
	close(devnull);
	return rc;
}

int nsx_root_readonly(struct nsx_error *e)
{
	int fd = open_root(e), rc;

	if (fd < 0)
		return -1;
	rc = nsx_remount_bind(fd, MS_RDONLY, "/", "rootfs", e);
	close(fd);
	return rc;
}

int nsx_dev_readonly(unsigned long flags, struct nsx_error *e)
{
	int fd = open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return nsx_fail(e, "mount", "open", errno, "/dev", "open /dev");
	rc = nsx_remount_bind(fd, flags, "/dev", "mount", e);
	close(fd);
	return rc;
}
