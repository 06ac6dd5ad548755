/* Test helper standing in for a console-socket client (containerd's shim, conmon):
 * listens on argv[1], prints "ready", accepts one connection, receives the pty
 * master with SCM_RIGHTS and copies everything the container writes to stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char data[16], buf[4096], ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int ls, conn, master;
	ssize_t n;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path))
		return 2;
	strcpy(addr.sun_path, argv[1]);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(ls, 1) < 0)
		return perror("listen"), 1;
	printf("ready\n");
	fflush(stdout);
	conn = accept(ls, NULL, NULL);
	if (conn < 0 || recvmsg(conn, &msg, 0) < 1)
		return perror("recvmsg"), 1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return fprintf(stderr, "no fd received\n"), 1;
	memcpy(&master, CMSG_DATA(c), sizeof(int));
	printf("fds=%zu\n", (c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	fflush(stdout);
	while ((n = read(master, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(1, buf, n) < 0)
			return 1;
	return 0;
}
