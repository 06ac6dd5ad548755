#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <json-c/json.h>
#include "jsonutil.h"
#include "sync.h"

struct monitor {
	struct nsx_ctx *ctx;
	pid_t child;
	int running_rfd, relay_sock, master, sigfd;
	bool stdin_open, failed, exited;
	bool listening; /* reading the runtime's messages: the program runs, the child's socket is closed */
	int status;
};

static void die(struct monitor *m, struct nsx_error *e) __attribute__((noreturn));

static void die(struct monitor *m, struct nsx_error *e)
{
	if (!m->exited) {
		kill(m->child, SIGKILL);
		waitpid(m->child, NULL, 0);
	}
	nsx_report_error(m->ctx->sync_fd, e);
	exit(1);
}

static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The one way the pty's size is set (nothing without a pty). */
static void set_winsize(struct monitor *m, const struct winsize *ws)
{
	if (m->master >= 0)
		ioctl(m->master, TIOCSWINSZ, ws);
}

/* The caller's terminal size onto the pty (nothing when fd 0 is no terminal). */
static void copy_winsize(struct monitor *m)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		set_winsize(m, &ws);
}

static void write_all(int fd, const char *p, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= w;
	}
}

/* Copies one chunk; false at EOF or error (for a master: every slave closed). */
static bool pump(int from, int to)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return n < 0 && errno == EAGAIN;
	write_all(to, buf, n);
	return true;
}

static void reap(struct monitor *m)
{
	int status;

	if (!m->exited && waitpid(m->child, &status, WNOHANG) == m->child) {
		m->exited = true;
		m->status = status;
	}
}

static void on_running_pipe(struct monitor *m)
{
	struct nsx_error e = { 0 };
	char byte;
	ssize_t n;

	while ((n = read(m->running_rfd, &byte, 1)) < 0 && errno == EINTR)
		;
	close(m->running_rfd);
	m->running_rfd = -1;
	if (n != 0) {
		m->failed = true; /* the child reports its own error */
		return;
	}
	if (nsx_sync_send_type(m->ctx->sync_fd, "running", &e) < 0)
		die(m, &e);
	/* the child's copy of the socket closed with its execve: what comes now is ours */
	m->listening = true;
}

/* A member of a resize message: an integer in [0, 65535] (the kernel's winsize). */
static int window_dim(json_object *o, const char *key, unsigned short *out, struct nsx_error *e)
{
	json_object *v = nsx_json_get(o, key);
	int64_t n;

	if (!v || !json_object_is_type(v, json_type_int) || (n = json_object_get_int64(v)) < 0 || n > 65535)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid resize message: %s must be an integer from 0 to 65535", key);
	*out = (unsigned short)n;
	return 0;
}

/* One runtime message once the program runs: `resize` is the only one. The
 * runtime closing its end (EOF) only ends the listening. */
static void on_runtime_message(struct monitor *m)
{
	struct nsx_error e = { 0 };
	struct winsize ws = { 0 };
	json_object *o, *t;
	char byte;
	ssize_t n = recv(m->ctx->sync_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		m->listening = false;
		return;
	}
	if (nsx_sync_read(m->ctx->sync_fd, &o, &e))
		die(m, &e);
	t = nsx_json_get(o, "type");
	if (!t || !json_object_is_type(t, json_type_string) || strcmp(json_object_get_string(t), "resize"))
		nsx_fail(&e, "protocol", NULL, 0, NULL, "expected a resize message once the process runs");
	if (e.stage || window_dim(o, "rows", &ws.ws_row, &e) || window_dim(o, "cols", &ws.ws_col, &e)) {
		json_object_put(o);
		die(m, &e);
	}
	json_object_put(o);
	set_winsize(m, &ws);
}

static void on_signal(struct monitor *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH)
			copy_winsize(m);
	}
	reap(m);
}

static void finish(struct monitor *m) __attribute__((noreturn));

static void finish(struct monitor *m)
{
	struct nsx_error e = { 0 };
	json_object *o;
	int st = m->status;

	if (m->master >= 0) {
		/* what the program wrote last is still in the pty */
		char buf[8192];
		ssize_t n;

		fcntl(m->master, F_SETFL, O_NONBLOCK);
		while ((n = read(m->master, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			write_all(1, buf, n > 0 ? n : 0);
	}
	if (m->failed)
		exit(1);
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("exit"));
	json_object_object_add(o, "status", json_object_new_int(WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st)));
	if (WIFSIGNALED(st))
		json_object_object_add(o, "signal", json_object_new_int(WTERMSIG(st)));
	if (nsx_sync_send(m->ctx->sync_fd, o, &e) < 0)
		die(m, &e);
	json_object_put(o);
	exit(0);
}

void nsx_monitor(struct nsx_ctx *ctx, pid_t child, int running_rfd, int relay_sock)
{
	struct monitor m = { .ctx = ctx, .child = child, .running_rfd = running_rfd, .relay_sock = relay_sock,
			     .master = -1, .stdin_open = relay_sock >= 0 };
	struct nsx_error e = { 0 };
	sigset_t set;

	/* signals as fds: one poll loop, no handlers; the child was cloned before
	 * this mask, so the container does not inherit it */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (m.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		nsx_fail(&e, "monitor", "signalfd", errno, NULL, "watch the container process");
		die(&m, &e);
	}
	/* a relayed reader that went away must not kill the monitor (this process
	 * never execs, so the disposition reaches nobody else) */
	signal(SIGPIPE, SIG_IGN);
	reap(&m); /* a SIGCHLD from before the mask is lost */
	while (!m.exited) {
		struct pollfd p[6];
		int n = 0, ir = -1, is = -1, ig, i0 = -1, im = -1, iy = -1;

		if (m.running_rfd >= 0)
			p[ir = n++] = (struct pollfd){ .fd = m.running_rfd, .events = POLLIN };
		if (m.relay_sock >= 0)
			p[is = n++] = (struct pollfd){ .fd = m.relay_sock, .events = POLLIN };
		p[ig = n++] = (struct pollfd){ .fd = m.sigfd, .events = POLLIN };
		if (m.master >= 0 && m.stdin_open)
			p[i0 = n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		if (m.master >= 0)
			p[im = n++] = (struct pollfd){ .fd = m.master, .events = POLLIN };
		if (m.listening)
			p[iy = n++] = (struct pollfd){ .fd = ctx->sync_fd, .events = POLLIN };
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			nsx_fail(&e, "monitor", "poll", errno, NULL, "watch the container process");
			die(&m, &e);
		}
		if (ir >= 0 && p[ir].revents)
			on_running_pipe(&m);
		if (is >= 0 && p[is].revents) {
			m.master = recv_fd(m.relay_sock);
			close(m.relay_sock);
			m.relay_sock = -1;
			copy_winsize(&m);
		}
		if (i0 >= 0 && p[i0].revents && !pump(0, m.master)) {
			struct termios t;

			/* the end of our input becomes the terminal's end-of-file character */
			m.stdin_open = false;
			if (tcgetattr(m.master, &t) == 0)
				write_all(m.master, (const char *)&t.c_cc[VEOF], 1);
		}
		if (im >= 0 && p[im].revents && !pump(m.master, 1)) {
			close(m.master);
			m.master = -1;
		}
		if (iy >= 0 && p[iy].revents)
			on_runtime_message(&m);
		if (p[ig].revents)
			on_signal(&m);
	}
	if (m.running_rfd >= 0)
		on_running_pipe(&m); /* EOF or the failure byte is there by now */
	finish(&m);
}
