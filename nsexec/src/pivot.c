#include "pivot.h"

#include <errno.h>
#include <fcntl.h>
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

static int do_move_chroot(int rootfd, struct nsx_error *e)
{
	if (fchdir(rootfd) < 0)
		return nsx_fail(e, "pivot_root", "fchdir", errno, NULL, "enter the rootfs");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return nsx_fail(e, "pivot_root", "mount", errno, NULL, "move the rootfs to /");
	if (chroot(".") < 0)
		return nsx_fail(e, "pivot_root", "chroot", errno, NULL, "chroot into the rootfs");
	if (chdir("/") < 0)
		return nsx_fail(e, "pivot_root", "chdir", errno, "/", "enter the new root");
	return 0;
}

int nsx_pivot(int rootfd, bool no_pivot, struct nsx_error *e)
{
	return no_pivot ? do_move_chroot(rootfd, e) : do_pivot(rootfd, e);
}
