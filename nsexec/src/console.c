#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <termios.h>
#include <unistd.h>
#include "jsonutil.h"
#include "pathres.h"

int nsx_console_connect(const char *path, struct nsx_error *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return nsx_fail(e, "console", NULL, ENAMETOOLONG, path, "connect console socket %s", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nsx_fail(e, "console", "socket", errno, path, "connect console socket %s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;
		close(fd);
		return nsx_fail(e, "console", "connect", err, path, "connect console socket %s", path);
	}
	return fd;
}

static int send_fd(int sock, int fd, struct nsx_error *e)
{
	char byte = ' ';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return nsx_fail(e, "console", "sendmsg", errno, NULL, "send the pty master to the console socket");
	return 0;
}

static int size_pty(int master, json_object *process, struct nsx_error *e)
{
	json_object *size = NULL;
	int64_t h = 0, w = 0;
	struct winsize ws = { 0 };

	if (nsx_json_object(process, "consoleSize", &size, e) || !size)
		return size ? -1 : 0;
	if (nsx_json_int64(size, "height", &h, e) || nsx_json_int64(size, "width", &w, e))
		return -1;
	ws.ws_row = (unsigned short)h;
	ws.ws_col = (unsigned short)w;
	if (ioctl(master, TIOCSWINSZ, &ws) < 0)
		return nsx_fail(e, "console", "ioctl", errno, NULL, "set the terminal size");
	return 0;
}

/* The pty belongs to the process's user, as runc leaves it; the gid stays the one
 * devpts gave it (gid=5, the tty group, in the usual mount options). A uid or an
 * owner that the user namespace does not map (EINVAL, EPERM) leaves it as it is. */
static int own_pty(int slave, json_object *process, struct nsx_error *e)
{
	json_object *user = NULL;
	int64_t uid = 0;

	if (nsx_json_object(process, "user", &user, e) || nsx_json_int64(user, "uid", &uid, e))
		return -1;
	if (uid && fchown(slave, (uid_t)uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
		return nsx_fail(e, "console", "fchown", errno, NULL, "give the pty to uid %lld", (long long)uid);
	return 0;
}

static int bind_on_console(int slave, struct nsx_error *e)
{
	char sp[32], tp[32];
	int root, tgt, rc = 0;

	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return nsx_fail(e, "console", "open", errno, "/", "open the container root");
	tgt = nsx_root_ensure(root, "/dev/console", 0, "console", e);
	close(root);
	if (tgt < 0)
		return -1;
	if (mount(nsx_fdpath(slave, sp), nsx_fdpath(tgt, tp), NULL, MS_BIND, NULL) < 0)
		rc = nsx_fail(e, "console", "mount", errno, "/dev/console", "bind the pty on /dev/console");
	close(tgt);
	return rc;
}

int nsx_console_setup(int sock, json_object *process, bool bind_console, struct nsx_error *e)
{
	struct statfs sf;
	int master, slave = -1, unlock = 0, rc = -1;

	/* the multiplexer of the devpts mounted in the container, whatever /dev/ptmx is */
	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	if (master < 0) {
		nsx_fail(e, "console", "open", errno, "/dev/pts/ptmx", "open /dev/pts/ptmx");
		goto out_sock;
	}
	if (fstatfs(master, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) {
		nsx_fail(e, "console", NULL, 0, "/dev/pts/ptmx", "/dev/pts is not a devpts mount");
		goto out;
	}
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		nsx_fail(e, "console", "ioctl", errno, "/dev/pts/ptmx", "unlock the pty");
		goto out;
	}
	/* the peer straight from the master: no path lookup of /dev/pts/N */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		nsx_fail(e, "console", "ioctl", errno, "/dev/pts/ptmx", "open the pty slave");
		goto out;
	}
	if (size_pty(master, process, e) || own_pty(slave, process, e) || (bind_console && bind_on_console(slave, e)) || send_fd(sock, master, e))
		goto out;
	if (setsid() < 0 && errno != EPERM) {
		nsx_fail(e, "console", "setsid", errno, NULL, "start a session");
		goto out;
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		nsx_fail(e, "console", "ioctl", errno, NULL, "make the pty the controlling terminal");
		goto out;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0) {
			nsx_fail(e, "console", "dup2", errno, NULL, "make the pty fd %d", i);
			goto out;
		}
	rc = 0;
out:
	if (slave > 2)
		close(slave);
	close(master);
out_sock:
	close(sock);
	return rc;
}
