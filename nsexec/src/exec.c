#include "exec.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *env_path(char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], "PATH=", 5))
			return envp[i] + 5;
	return NULL;
}

static bool executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111);
}

int nsx_exec_lookup(const char *argv0, char *const envp[], char *out, size_t outsz, struct nsx_error *e)
{
	const char *path, *p;
	struct stat st;

	if (!argv0 || !*argv0)
		return nsx_fail(e, "exec", NULL, 0, NULL, "exec: no command given (process.args is empty)");
	if (strchr(argv0, '/')) {
		if (stat(argv0, &st) < 0)
			return nsx_fail(e, "exec", "stat", errno, argv0, "exec: \"%s\": stat %s", argv0, argv0);
		snprintf(out, outsz, "%s", argv0);
		return 0;
	}
	path = env_path(envp);
	for (p = path; p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int n;

		/* an empty element means the current directory, as in Go's LookPath */
		n = len ? snprintf(out, outsz, "%.*s/%s", (int)len, p, argv0) : snprintf(out, outsz, "./%s", argv0);
		if (n > 0 && (size_t)n < outsz && executable_file(out))
			return 0;
		p = end ? end + 1 : NULL;
	}
	nsx_fail(e, "exec", NULL, 0, argv0, "exec: \"%s\": executable file not found in $PATH", argv0);
	e->err = ENOENT; /* for the event; the text stays runc's */
	return -1;
}

int nsx_exec_cloexec_from(int first, struct nsx_error *e)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return nsx_fail(e, "exec", "close_range", errno, NULL, "mark fds from %d close-on-exec", first);
	return 0;
}

int nsx_exec(const char *path, char *const argv[], char *const envp[], struct nsx_error *e)
{
	execve(path, argv, envp);
	return nsx_fail(e, "exec", "execve", errno, path, "exec %s", path);
}
