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
#include <time.h>
#include <unistd.h>
#include "jsonutil.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feeds the state to the hook's stdin while waiting for it, both under its timeout:
 * the write end is non-blocking and polled with a pidfd, so a hook that never reads
 * cannot hold us past the timeout, and one that exits without reading only ends the
 * write (EPIPE; SIGPIPE is ignored meanwhile, the hook itself was forked before). */
static int feed_and_wait(pid_t pid, int wfd, const char *state, int64_t timeout, int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	size_t left = state ? strlen(state) : 0;
	int64_t deadline = timeout > 0 && timeout < INT32_MAX ? now_ms() + timeout * 1000 : -1;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int err = 0;

	sigaction(SIGPIPE, &ign, &old);
	fcntl(wfd, F_SETFL, O_NONBLOCK);
	while (pidfd >= 0) {
		struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = left ? wfd : -1, .events = POLLOUT } };
		int wait = deadline < 0 ? -1 : (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0);
		int r = poll(p, 2, wait);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			err = ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		if (r < 0 || p[0].revents)
			break; /* exited (or no poll): reaped below */
		if (p[1].revents) {
			ssize_t n = write(wfd, state, left);

			if (n > 0) {
				state += n;
				left -= (size_t)n;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				left = 0; /* the hook need not read its stdin */
			}
			if (!left) {
				close(wfd);
				wfd = -1;
			}
		}
	}
	/* no pidfd: a plain blocking write and wait, without the timeout */
	if (pidfd < 0 && wfd >= 0) {
		fcntl(wfd, F_SETFL, 0);
		while (left) {
			ssize_t n = write(wfd, state, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			state += n;
			left -= (size_t)n;
		}
	}
	sigaction(SIGPIPE, &old, NULL);
	if (wfd >= 0)
		close(wfd);
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return err;
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

/* How runc words a signal ("bad system call"): strsignal's text, lowercase unless
 * it starts with an acronym ("CPU time limit exceeded", "I/O possible"). */
static void signal_text(int sig, char *out, size_t size)
{
	const char *s = strsignal(sig);

	snprintf(out, size, "signal: %s", s);
	if (s[0] && s[1] && !isupper((unsigned char)s[1]) && s[1] != '/')
		out[strlen("signal: ")] = (char)tolower((unsigned char)s[0]);
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* What the hook's process reports on the exec-error pipe when it fails before its program runs. */
enum { FAILED_SECCOMP = 1, FAILED_EXECVE };

static int run_hook(json_object *hook, const char *name, size_t index, const char *state,
		    const struct nsx_seccomp *filter, struct nsx_error *e)
{
	const char *path = NULL;
	json_object *args = NULL, *env = NULL;
	char **argv = NULL, **envp = NULL, *fallback[2], why[64];
	int64_t timeout = 0;
	/* stdin pipe, exec-error pipe (close-on-exec: EOF when execve succeeded), stdout and stderr memfds */
	int fds[6] = { -1, -1, -1, -1, -1, -1 }, status = 0, err, failed[2] = { 0, 0 }, rc;
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
		/* the filter last, as for the container process */
		failed[1] = filter ? nsx_seccomp_load_copy(filter) : 0;
		if (failed[1]) {
			failed[0] = FAILED_SECCOMP;
		} else {
			execve(path, argv[0] ? argv : fallback, envp);
			failed[0] = FAILED_EXECVE;
			failed[1] = errno;
		}
		if (write(exec_pipe[1], failed, sizeof(failed)) < 0)
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
	err = feed_and_wait(pid, stdin_pipe[1], state, timeout, &status);
	stdin_pipe[1] = -1; /* closed there */
	while ((rc = (int)read(exec_pipe[0], failed, sizeof(failed))) < 0 && errno == EINTR)
		;
	if (rc != (int)sizeof(failed))
		failed[0] = 0;
	rc = 0;
	if (failed[0] == FAILED_SECCOMP)
		rc = nsx_fail(e, "hooks", "seccomp", failed[1], path,
			      "%s hook #%zu (%s): error running hook: loading the seccomp filter", name, index, path);
	else if (failed[0])
		rc = nsx_fail(e, "hooks", "execve", failed[1], path, "%s hook #%zu (%s): error running hook: exec", name, index,
			      path);
	else if (err == ETIMEDOUT) {
		snprintf(why, sizeof(why), "timeout after %lld seconds", (long long)timeout);
		rc = hook_failed(e, name, index, path, why, *out, *err_out);
	} else if (err)
		rc = nsx_fail(e, "hooks", "waitpid", err, path, "%s hook #%zu (%s): error running hook", name, index, path);
	else if (WIFSIGNALED(status)) {
		signal_text(WTERMSIG(status), why, sizeof(why));
		rc = hook_failed(e, name, index, path, why, *out, *err_out);
	} else if (WEXITSTATUS(status)) {
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
		rc = hook_failed(e, name, index, path, why, *out, *err_out);
	}
	close_all(fds, 6);
	return rc;
}

int nsx_run_hooks(json_object *hooks, const char *name, const char *state, const struct nsx_seccomp *filter,
		  struct nsx_error *e)
{
	json_object *list = NULL;
	size_t n;

	if (nsx_json_array(hooks, name, &list, e))
		return -1;
	n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++)
		if (run_hook(json_object_array_get_idx(list, i), name, i, state, filter, e))
			return -1;
	return 0;
}
