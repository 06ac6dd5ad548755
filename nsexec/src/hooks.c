#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
	if (state)
		write_all(pipefd[1], state, strlen(state));
	close(pipefd[1]);
	err = wait_hook(pid, timeout, &status);
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
