#include "fifo.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jsonutil.h"
#include "pathres.h"
#include "userns.h"

int nsx_fifo_create(const char *path, json_object *lnx, struct nsx_error *e)
{
	struct stat st;
	int64_t uid, gid;
	mode_t old;
	int fd, rc;

	if (nsx_userns_host_root(nsx_json_get(lnx, "uidMappings"), "user", &uid, e) ||
	    nsx_userns_host_root(nsx_json_get(lnx, "gidMappings"), "group", &gid, e))
		return -1;
	/* single-threaded: the umask is ours to swap for the one call */
	old = umask(0);
	rc = mkfifo(path, 0622);
	umask(old);
	if (rc < 0 && errno == EEXIST)
		return nsx_fail(e, "fifo", NULL, 0, path, "exec fifo %s already exists", path);
	if (rc < 0)
		return nsx_fail(e, "fifo", "mkfifo", errno, path, "create exec fifo %s", path);
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return nsx_fail(e, "fifo", "open", errno, path, "open exec fifo %s", path);
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return nsx_fail(e, "fifo", NULL, 0, path, "exec fifo %s is not a fifo", path);
	}
	if ((uid || gid) && fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH) < 0) {
		rc = errno;
		close(fd);
		return nsx_fail(e, "fifo", "fchownat", rc, path, "chown exec fifo %s", path);
	}
	return fd;
}

int nsx_fifo_hold(int fd, struct nsx_error *e)
{
	char p[32];
	int r, w;

	r = open(nsx_fdpath(fd, p), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (r < 0)
		return nsx_fail(e, "fifo", "open", errno, NULL, "open exec fifo for reading");
	w = open(p, O_WRONLY | O_CLOEXEC); /* a reader exists: does not block */
	close(r);
	if (w < 0)
		return nsx_fail(e, "fifo", "open", errno, NULL, "open exec fifo for writing");
	return w;
}

int nsx_fifo_wait(int fd, struct nsx_error *e)
{
	char p[32];
	int w;

	/* reopening through the O_PATH fd reaches the host fifo from inside the root */
	while ((w = open(nsx_fdpath(fd, p), O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return nsx_fail(e, "fifo", "open", errno, NULL, "open exec fifo for writing");
	close(fd);
	if (write(w, "0", 1) != 1) {
		int err = errno;
		close(w);
		return nsx_fail(e, "fifo", "write", err, NULL, "write exec fifo");
	}
	/* w stays open, close-on-exec: start sees EOF exactly when the exec happened
	 * (or this process died) */
	return 0;
}
