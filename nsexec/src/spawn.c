#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
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
	_exit(1);
}

static int shell_status(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Foreground: the "running" pipe's write end is close-on-exec in the child, so EOF
 * means the user program was exec'd, and a byte means the child failed first. */
static void monitor(struct nsx_ctx *ctx, pid_t child, int running_rfd) __attribute__((noreturn));

static void monitor(struct nsx_ctx *ctx, pid_t child, int running_rfd)
{
	struct nsx_error e = { 0 };
	json_object *o;
	char byte;
	ssize_t n;
	int status = 0;

	while ((n = read(running_rfd, &byte, 1)) < 0 && errno == EINTR)
		;
	close(running_rfd);
	if (n == 0 && nsx_sync_send_type(ctx->sync_fd, "running", &e) < 0)
		parent_fail(child, ctx->sync_fd, &e);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR) {
			nsx_fail(&e, "monitor", "waitpid", errno, NULL, "wait for the container process");
			parent_fail(-1, ctx->sync_fd, &e);
		}
	if (n != 0)
		exit(1); /* the child reported its error itself */
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("exit"));
	json_object_object_add(o, "status", json_object_new_int(shell_status(status)));
	if (WIFSIGNALED(status))
		json_object_object_add(o, "signal", json_object_new_int(WTERMSIG(status)));
	if (nsx_sync_send(ctx->sync_fd, o, &e) < 0)
		parent_fail(-1, ctx->sync_fd, &e);
	json_object_put(o);
	exit(0);
}

int nsx_spawn(struct nsx_ctx *ctx, unsigned long clone_flags, struct nsx_error *e)
{
	int running[2] = { -1, -1 };
	pid_t child;

	if (ctx->foreground && pipe2(running, O_CLOEXEC) < 0)
		return nsx_fail(e, "spawn", "pipe2", errno, NULL, "create the running pipe");
	/* the raw syscall returns in the child like fork(), on the same stack; safe
	 * because nsexec is single-threaded */
	child = (pid_t)syscall(SYS_clone, clone_flags | SIGCHLD, NULL, NULL, NULL, 0UL);
	if (child < 0) {
		int err = errno;
		if (running[0] >= 0) {
			close(running[0]);
			close(running[1]);
		}
		return nsx_fail(e, "spawn", "clone", err, NULL, "create the container process");
	}
	if (child == 0) {
		if (running[0] >= 0)
			close(running[0]);
		ctx->running_wfd = running[1];
		return 0;
	}
	if (running[1] >= 0)
		close(running[1]);
	if ((clone_flags & CLONE_NEWUSER) && nsx_userns_write_maps(child, ctx->lnx, e) < 0)
		parent_fail(child, ctx->sync_fd, e);
	if (nsx_sync_send_int(ctx->sync_fd, "pid", "pid", child, e) < 0)
		parent_fail(child, ctx->sync_fd, e);
	if (!ctx->foreground)
		exit(0);
	monitor(ctx, child, running[0]);
}
