#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include "monitor.h"
#include "namespaces.h"
#include "sync.h"
#include "userns.h"

static void parent_fail(pid_t child, int sync_fd, const struct nsx_error *e) __attribute__((noreturn));

static void parent_fail(pid_t child, int sync_fd, const struct nsx_error *e)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	nsx_report_error(sync_fd, e);
	exit(1);
}

void nsx_child_fail(struct nsx_ctx *ctx, const struct nsx_error *e)
{
	if (ctx->running_wfd >= 0)
		while (write(ctx->running_wfd, "E", 1) < 0 && errno == EINTR)
			;
	nsx_report_error(ctx->sync_fd, e);
	/* Past the exec fifo (its O_PATH fd is spent, the held writer remains), `start` is
	 * the one waiting: it reads the error from the fifo before the EOF of our exit. */
	if (ctx->fifo_hold_fd >= 0 && ctx->fifo_fd < 0)
		nsx_report_error(ctx->fifo_hold_fd, e);
	_exit(1);
}

/* The raw syscalls return in the child like fork(), on the same stack; safe
 * because nsexec is single-threaded. With a cgroup2 directory to join, the clone
 * lands there (*in_v2); a kernel or a cgroup that refuses that (clone3 missing, a
 * joined cgroup namespace the directory is outside of) gets a plain clone, and
 * the child moves itself. */
static pid_t clone_child(struct nsx_ctx *ctx, unsigned long clone_flags, bool *in_v2)
{
	*in_v2 = false;
	if (ctx->cgroups.v2_dir >= 0) {
		struct clone_args args = {
			.flags = clone_flags | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (__u64)ctx->cgroups.v2_dir,
		};
		pid_t child = (pid_t)syscall(SYS_clone3, &args, sizeof(args));

		if (child >= 0) {
			*in_v2 = true;
			return child;
		}
	}
	return (pid_t)syscall(SYS_clone, clone_flags | SIGCHLD, NULL, NULL, NULL, 0UL);
}

/* The child waits for the parent to write its uid/gid maps and send `pid`, which
 * must reach the runtime before anything the child sends: the parent then writes
 * the child's host pid on a pipe (an exec child has no host /proc to learn it). */
static int wait_for_parent(int fd, pid_t *host_pid, struct nsx_error *e)
{
	ssize_t n;

	while ((n = read(fd, host_pid, sizeof(*host_pid))) < 0 && errno == EINTR)
		;
	close(fd);
	return n == sizeof(*host_pid) ? 0 : nsx_fail(e, "spawn", "read", n < 0 ? errno : EPIPE, NULL, "wait for the parent");
}

/* exec, in the first child (still in the host's pid namespace, so nothing in the
 * container can see it): joined to the cgroups, it closes the last host fd it holds
 * (the pidfd) while entering the container's namespaces, and forks the container
 * process as a sibling (CLONE_PARENT: the monitor's own child). That process is
 * born in the container's pid namespace holding no host fd: a container with
 * CAP_SYS_PTRACE reads /proc/<pid>/fd of anything it can see. Its host pid goes to
 * the parent on pid_wfd; this process then exits. Returns only in the container process. */
static void enter_and_fork(struct nsx_ctx *ctx, int pid_wfd, struct nsx_error *e)
{
	pid_t child;
	int rc = nsx_ns_join_process(&ctx->ns, ctx->join_pidfd, (int)ctx->join_pid, e);

	close(ctx->join_pidfd);
	ctx->join_pidfd = -1;
	if (rc)
		nsx_child_fail(ctx, e);
	/* a fork, so the joined pid and time namespaces apply */
	child = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0UL);
	if (child < 0) {
		nsx_fail(e, "spawn", "clone", errno, NULL, "create the container process");
		nsx_child_fail(ctx, e);
	}
	if (child == 0) {
		close(pid_wfd);
		return;
	}
	_exit(write(pid_wfd, &child, sizeof(child)) == sizeof(child) ? 0 : 1);
}

/* exec, in the parent: the container process's pid from the first child, which is
 * then reaped. None: the first child failed and sent the error itself. */
static pid_t forked_by_first_child(pid_t first, int pid_rfd)
{
	pid_t child = 0;
	ssize_t n;

	while ((n = read(pid_rfd, &child, sizeof(child))) < 0 && errno == EINTR)
		;
	close(pid_rfd);
	waitpid(first, NULL, 0);
	if (n != sizeof(child))
		exit(1);
	return child;
}

int nsx_spawn(struct nsx_ctx *ctx, unsigned long clone_flags, struct nsx_error *e)
{
	int running[2] = { -1, -1 }, relay[2] = { -1, -1 }, go[2] = { -1, -1 }, forked[2] = { -1, -1 };
	bool in_v2;
	pid_t child, host_pid;

	if (ctx->foreground && pipe2(running, O_CLOEXEC) < 0)
		return nsx_fail(e, "spawn", "pipe2", errno, NULL, "create the running pipe");
	/* relayTerminal: the child sends the pty master to us instead of a console socket */
	if (ctx->relay_terminal && ctx->terminal && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, relay) < 0)
		return nsx_fail(e, "spawn", "socketpair", errno, NULL, "create the terminal relay");
	if (pipe2(go, O_CLOEXEC) < 0)
		return nsx_fail(e, "spawn", "pipe2", errno, NULL, "create the go pipe");
	if (ctx->exec_mode && pipe2(forked, O_CLOEXEC) < 0)
		return nsx_fail(e, "spawn", "pipe2", errno, NULL, "create the pid pipe");
	child = clone_child(ctx, clone_flags, &in_v2);
	if (child < 0) {
		int err = errno;
		for (int i = 0; i < 2; i++) {
			if (running[i] >= 0)
				close(running[i]);
			if (relay[i] >= 0)
				close(relay[i]);
			if (forked[i] >= 0)
				close(forked[i]);
			close(go[i]);
		}
		return nsx_fail(e, "spawn", "clone", err, NULL, "create the container process");
	}
	if (child == 0) {
		if (running[0] >= 0)
			close(running[0]);
		ctx->running_wfd = running[1];
		if (relay[0] >= 0) {
			close(relay[0]);
			ctx->console_sock = relay[1];
		}
		/* before anything else runs in it, the container process is in its cgroups */
		if (ctx->cgroups.given && nsx_cgroup_join_self(&ctx->cgroups, in_v2, e))
			nsx_child_fail(ctx, e);
		close(go[1]);
		if (ctx->exec_mode) {
			close(forked[0]);
			enter_and_fork(ctx, forked[1], e);
		}
		if (wait_for_parent(go[0], &host_pid, e))
			nsx_child_fail(ctx, e);
		if (ctx->exec_mode)
			ctx->host_pid = host_pid;
		return 0;
	}
	nsx_cgroup_join_close(&ctx->cgroups);
	if (ctx->exec_mode) {
		close(ctx->join_pidfd);
		close(forked[1]);
		child = forked_by_first_child(child, forked[0]);
	}
	close(go[0]);
	/* the child's ends stay with the child only: an exec fifo writer left here
	 * would hide the child's execve or death from start, a console socket would
	 * outlive the container's use of it */
	if (running[1] >= 0)
		close(running[1]);
	if (relay[1] >= 0)
		close(relay[1]);
	if (ctx->fifo_hold_fd >= 0)
		close(ctx->fifo_hold_fd);
	if (ctx->fifo_fd >= 0)
		close(ctx->fifo_fd);
	if (ctx->console_sock >= 0)
		close(ctx->console_sock);
	if ((clone_flags & CLONE_NEWUSER) && nsx_userns_write_maps(child, ctx->lnx, e) < 0)
		parent_fail(child, ctx->sync_fd, e);
	if (nsx_sync_send_int(ctx->sync_fd, "pid", "pid", child, e) < 0)
		parent_fail(child, ctx->sync_fd, e);
	if (write(go[1], &child, sizeof(child)) != sizeof(child)) {
		nsx_fail(e, "spawn", "write", errno, NULL, "release the container process");
		parent_fail(child, ctx->sync_fd, e);
	}
	close(go[1]);
	if (!ctx->foreground)
		exit(0);
	nsx_monitor(ctx, child, running[0], relay[0]);
}
