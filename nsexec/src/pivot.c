#include "pivot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int do_pivot(int rootfd, struct nsx_error *e)
{
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (oldroot < 0)
		return nsx_fail(e, "pivot_root", "open", errno, "/", "open the old root");
	/* pivot_root(".", ".") stacks the old root on top of the new one, so no
	 * directory for it is needed inside the container */
	if (fchdir(rootfd) < 0)
		rc = nsx_fail(e, "pivot_root", "fchdir", errno, NULL, "enter the rootfs");
	else if (syscall(SYS_pivot_root, ".", ".") < 0)
		rc = nsx_fail(e, "pivot_root", "pivot_root", errno, NULL, "pivot_root");
	else if (fchdir(oldroot) < 0)
		rc = nsx_fail(e, "pivot_root", "fchdir", errno, NULL, "enter the old root");
	/* slave first, so the detach below cannot propagate back to the host */
	else if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		rc = nsx_fail(e, "pivot_root", "mount", errno, NULL, "make the old root rslave");
	else if (umount2(".", MNT_DETACH) < 0)
		rc = nsx_fail(e, "pivot_root", "umount2", errno, NULL, "detach the old root");
	close(oldroot);
	if (!rc && chdir("/") < 0)
		rc = nsx_fail(e, "pivot_root", "chdir", errno, "/", "enter the new root");
	return rc;
}

static int do_chroot(int rootfd, struct nsx_error *e)
{
	if (fchdir(rootfd) < 0)
		return nsx_fail(e, "pivot_root", "fchdir", errno, NULL, "enter the rootfs");
	if (chroot(".") < 0)
		return nsx_fail(e, "pivot_root", "chroot", errno, NULL, "chroot into the rootfs");
	if (chdir("/") < 0)
		return nsx_fail(e, "pivot_root", "chdir", errno, "/", "enter the new root");
	return 0;
}

/* Whether mountinfo's octal-escaped mount point `mp` is `dir` or below it. */
static bool under(const char *mp, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(mp, dir, n) && (mp[n] == '\0' || mp[n] == '/' || !strcmp(dir, "/"));
}

/* After chroot the old root's mounts stay in this mount namespace, and the kernel
 * lets a new procfs or sysfs be mounted only where a full one is visible: with the
 * host's /proc still there, `unshare -mrpf mount -t proc` would work inside. So
 * every full proc and sysfs mount outside the rootfs goes first (as runc does):
 * made slave so nothing propagates back, then detached, or covered by a tmpfs
 * where detaching is not allowed. */
static int drop_outer_proc_sysfs(const char *rootfs, struct nsx_error *e)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], found[64][PATH_MAX];
	size_t n = 0;

	if (!f)
		return nsx_fail(e, "pivot_root", "open", errno, "/proc/self/mountinfo", "read the mount table");
	while (n < sizeof(found) / sizeof(found[0]) && fgets(line, sizeof(line), f)) {
		/* id parent major:minor root mountpoint options ... - fstype source super */
		char root[PATH_MAX], mp[PATH_MAX], fstype[64];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) != 2 || sscanf(dash + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(root, "/") || (strcmp(fstype, "proc") && strcmp(fstype, "sysfs")) || under(mp, rootfs))
			continue;
		snprintf(found[n++], PATH_MAX, "%s", mp);
	}
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		const char *mp = found[i];

		if (strchr(mp, '\\'))
			continue; /* an escaped (unusual) path: not one a host mounts proc or sysfs at */
		if (mount(NULL, mp, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT || errno == EINVAL)
				continue; /* already gone with a parent detached before it */
			return nsx_fail(e, "pivot_root", "mount", errno, mp, "make %s rslave", mp);
		}
		if (umount2(mp, MNT_DETACH) == 0)
			continue;
		if ((errno != EINVAL && errno != EPERM) || mount("tmpfs", mp, "tmpfs", 0, NULL) < 0)
			return nsx_fail(e, "pivot_root", "umount2", errno, mp, "detach %s", mp);
	}
	return 0;
}

static int do_move_chroot(int rootfd, const char *rootfs, struct nsx_error *e)
{
	if (drop_outer_proc_sysfs(rootfs, e))
		return -1;
	if (fchdir(rootfd) < 0)
		return nsx_fail(e, "pivot_root", "fchdir", errno, NULL, "enter the rootfs");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return nsx_fail(e, "pivot_root", "mount", errno, NULL, "move the rootfs to /");
	return do_chroot(rootfd, e);
}

int nsx_pivot(int rootfd, const char *rootfs, enum nsx_root_switch how, struct nsx_error *e)
{
	switch (how) {
	case NSX_ROOT_MOVE_CHROOT:
		return do_move_chroot(rootfd, rootfs, e);
	case NSX_ROOT_CHROOT:
		return do_chroot(rootfd, e);
	default:
		return do_pivot(rootfd, e);
	}
}
