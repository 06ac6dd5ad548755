#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

static int run_hook(json_object *hook, const char *name, size_t index, const char *state, struct nsx_error *e)
{
	const char *path = NULL;
	json_object *args = NULL, *env = NULL;
	char **argv = NULL, **envp = NULL, *fallback[2];
	int64_t timeout = 0;
	int pipefd[2], status = 0, err;
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
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(argv);
		free(envp);
		return nsx_fail(e, "hooks", "pipe2", errno, path, "error running %s hook #%zu", name, index);
	}
	pid = fork();
	if (pid == 0) {
		if (dup2(pipefd[0], 0) < 0)
			_exit(127);
		execve(path, argv[0] ? argv : fallback, envp);
		_exit(127);
	}
	err = errno;
	close(pipefd[0]);
	free(argv);
	free(envp);
	if (pid < 0) {
		close(pipefd[1]);
		return nsx_fail(e, "hooks", "fork", err, path, "error running %s hook #%zu", name, index);
	}
	err = feed_and_wait(pid, pipefd[1], state, timeout, &status);
	if (err == ETIMEDOUT)
		return nsx_fail(e, "hooks", NULL, 0, path, "error running %s hook #%zu: timeout after %lld seconds", name, index,
				(long long)timeout);
	if (err)
		return nsx_fail(e, "hooks", "waitpid", err, path, "error running %s hook #%zu", name, index);
	if (WIFSIGNALED(status))
		return nsx_fail(e, "hooks", NULL, 0, path, "error running %s hook #%zu: signal: %s", name, index,
				strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status))
		return nsx_fail(e, "hooks", NULL, 0, path, "error running %s hook #%zu: exit status %d", name, index,
				WEXITSTATUS(status));
	return 0;
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
