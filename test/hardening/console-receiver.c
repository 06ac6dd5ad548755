/* The other end of --console-socket: accepts one connection, takes the pty master
 * sent with SCM_RIGHTS and copies everything the container writes to stdout until the
 * terminal closes. Prints "ready" once listening. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[4096], control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	int srv, conn, master;
	ssize_t n;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path))
		return 2;
	strcpy(addr.sun_path, argv[1]);
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(srv, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(srv, 1) < 0)
		return perror("listen"), 2;
	puts("ready");
	fflush(stdout);
	conn = accept(srv, NULL, NULL);
	if (conn < 0 || recvmsg(conn, &msg, 0) < 0 || !CMSG_FIRSTHDR(&msg))
		return perror("recvmsg"), 2;
	memcpy(&master, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	while ((n = read(master, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(1, buf, (size_t)n) < 0)
			return 2;
	return 0;
}
