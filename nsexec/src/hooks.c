#include "hooks.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "jsonutil.h"

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the hook need not read its stdin */
		s += n;
		len -= n;
	}
}

/* Waits for the hook; a pidfd makes the timeout a plain poll, no timers. */
static int wait_hook(pid_t pid, int64_t timeout, int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd >= 0 && timeout > 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, timeout > INT32_MAX / 1000 ? -1 : (int)(timeout * 1000))) < 0 && errno == EINTR)
			;
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			close(pidfd);
			return ETIMEDOUT;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

/* How much of a failed hook's stdout and stderr its error shows: the end, where the reason usually is. */
#define OUTPUT_TAIL 256

/* The last bytes written to the memfd `fd`, trimmed, into out ("" without a memfd). */
static void output_tail(int fd, char *out, size_t size)
{
	struct stat st;
	off_t from = 0;
	ssize_t n = 0;
	char *s = out;

	if (fd >= 0 && fstat(fd, &st) == 0) {
		if (st.st_size > (off_t)(size - 1))
			from = st.st_size - (off_t)(size - 1);
		n = pread(fd, out, size - 1, from);
	}
	out[n > 0 ? n : 0] = '\0';
	for (n = (ssize_t)strlen(out); n > 0 && isspace((unsigned char)out[n - 1]); n--)
		out[n - 1] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	memmove(out, s, strlen(s) + 1);
}

/* A hook that ran and failed: named by stage, index and path, with why and the end of its output. */
static int hook_failed(struct nsx_error *e, const char *name, size_t index, const char *path, const char *why, int out,
		       int err_out)
{
	char so[OUTPUT_TAIL], se[OUTPUT_TAIL];

	output_tail(out, so, sizeof(so));
	output_tail(err_out, se, sizeof(se));
	return nsx_fail(e, "hooks", NULL, 0, path, "%s hook #%zu (%s): error running hook: %s, stdout: %s, stderr: %s", name,
			index, path, why, so, se);
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int run_hook(json_object *hook, const char *name, size_t index, const char *state, struct nsx_error *e)
{
	const char *path = NULL;
	json_object *args = NULL, *env = NULL;
	char **argv = NULL, **envp = NULL, *fallback[2], why[64];
	int64_t timeout = 0;
	/* stdin pipe, exec-error pipe (close-on-exec: EOF when execve succeeded), stdout and stderr memfds */
	int fds[6] = { -1, -1, -1, -1, -1, -1 }, status = 0, err, exec_err = 0, rc;
	int *stdin_pipe = fds, *exec_pipe = fds + 2, *out = fds + 4, *err_out = fds + 5;
	pid_t pid;

	if (nsx_json_string(hook, "path", &path, e) || nsx_json_array(hook, "args", &args, e) ||
	    nsx_json_array(hook, "env", &env, e) || nsx_json_int64(hook, "timeout", &timeout, e))
		return -1;
	if (!path)
		return nsx_fail(e, "hooks", NULL, 0, NULL, "%s hook #%zu has no path", name, index);
	if (nsx_json_strv(args, "hook args", &argv, e) || nsx_json_strv(env, "hook env", &envp, e)) {
		free(argv);
		return -1;
	}
	if (!argv[0]) {
		fallback[0] = (char *)path;
		fallback[1] = NULL;
	}
	/* the output is kept for the error only; without memfds the hook writes where nsexec does */
	*out = memfd_create("hook-stdout", MFD_CLOEXEC);
	*err_out = memfd_create("hook-stderr", MFD_CLOEXEC);
	if (pipe2(stdin_pipe, O_CLOEXEC) < 0 || pipe2(exec_pipe, O_CLOEXEC) < 0) {
		err = errno;
		close_all(fds, 6);
		free(argv);
		free(envp);
		return nsx_fail(e, "hooks", "pipe2", err, path, "%s hook #%zu (%s): error running hook", name, index, path);
	}
	pid = fork();
	if (pid == 0) {
		if (dup2(stdin_pipe[0], 0) < 0 || (*out >= 0 && dup2(*out, 1) < 0) || (*err_out >= 0 && dup2(*err_out, 2) < 0))
			_exit(127);
		execve(path, argv[0] ? argv : fallback, envp);
		err = errno;
		if (write(exec_pipe[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	err = errno;
	close(stdin_pipe[0]);
	close(exec_pipe[1]);
	stdin_pipe[0] = exec_pipe[1] = -1;
	free(argv);
	free(envp);
	if (pid < 0) {
		close_all(fds, 6);
		return nsx_fail(e, "hooks", "fork", err, path, "%s hook #%zu (%s): error running hook", name, index, path);
	}
	if (state)
		write_all(stdin_pipe[1], state, strlen(state));
	close(stdin_pipe[1]);
	stdin_pipe[1] = -1;
	err = wait_hook(pid, timeout, &status);
	while ((rc = (int)read(exec_pipe[0], &exec_err, sizeof(exec_err))) < 0 && errno == EINTR)
		;
	if (rc != (int)sizeof(exec_err))
		exec_err = 0;
	rc = 0;
	if (exec_err)
		rc = nsx_fail(e, "hooks", "execve", exec_err, path, "%s hook #%zu (%s): error running hook: exec", name, index,
			      path);
	else if (err == ETIMEDOUT) {
		snprintf(why, sizeof(why), "timeout after %lld seconds", (long long)timeout);
		rc = hook_failed(e, name, index, path, why, *out, *err_out);
	} else if (err)
		rc = nsx_fail(e, "hooks", "waitpid", err, path, "%s hook #%zu (%s): error running hook", name, index, path);
	else if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "signal: %s", strsignal(WTERMSIG(status)));
		rc = hook_failed(e, name, index, path, why, *out, *err_out);
	} else if (WEXITSTATUS(status)) {
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
		rc = hook_failed(e, name, index, path, why, *out, *err_out);
	}
	close_all(fds, 6);
	return rc;
}

int nsx_run_hooks(json_object *hooks, const char *name, const char *state, struct nsx_error *e)
{
	json_object *list = NULL;
	size_t n;

	if (nsx_json_array(hooks, name, &list, e))
		return -1;
	n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		if (run_hook(json_object_array_get_idx(list, i), name, i, state, e))
			return -1;
	return 0;
}
