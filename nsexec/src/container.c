#include "container.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include "caps.h"
#include "console.h"
#include "exec.h"
#include "fifo.h"
#include "hooks.h"
#include "jsonutil.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"

int nsx_container_connect_console(struct nsx_ctx *ctx, struct nsx_error *e)
{
	if (!ctx->terminal || ctx->relay_terminal)
		return 0; /* a relayed pty goes over the pair nsx_spawn made */
	if (!ctx->console_socket)
		return nsx_fail(e, "console", NULL, 0, NULL, "process.terminal is set but no console socket was given");
	ctx->console_sock = nsx_console_connect(ctx->console_socket, e);
	return ctx->console_sock < 0 ? -1 : 0;
}

/* runc's rule: without HOME in process.env, the user's home from the container's
 * /etc/passwd (or "/") is added. Returns envp or a new vector. */
static char **with_home(char **envp, uid_t uid)
{
	static char home[PATH_MAX + 8];
	char line[1024];
	size_t n = 0;
	char **out;
	struct stat st;
	FILE *f = NULL;
	int fd;

	for (; envp[n]; n++)
		if (!strncmp(envp[n], "HOME=", 5))
			return envp;
	snprintf(home, sizeof(home), "HOME=/");
	/* the image's file: a regular one only (a fifo would hang us) */
	fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))))
		close(fd);
	while (f && fgets(line, sizeof(line), f)) {
		/* name:password:uid:gid:gecos:home:shell */
		char *field[7] = { 0 }, *p = line;
		int i = 0;

		for (char *tok; i < 7 && (tok = strsep(&p, ":\n")); i++)
			field[i] = tok;
		if (i >= 6 && field[2] && strtoul(field[2], NULL, 10) == uid && field[5] && *field[5]) {
			snprintf(home, sizeof(home), "HOME=%s", field[5]);
			break;
		}
	}
	if (f)
		fclose(f);
	out = calloc(n + 2, sizeof(*out));
	if (!out)
		return envp;
	memcpy(out, envp, n * sizeof(*out));
	out[n] = home;
	return out;
}

/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: when the process
 * will not keep it, the filter goes in before the capabilities are dropped (as
 * runc does); otherwise it is the very last step before execve. */
static bool seccomp_early(const struct nsx_ctx *ctx, bool nnp, const struct nsx_caps *caps)
{
	return ctx->seccomp && !nnp && !nsx_caps_has(caps->effective, CAP_SYS_ADMIN);
}

int nsx_container_finish(struct nsx_ctx *ctx, struct nsx_error *e)
{
	struct nsx_caps caps;
	struct nsx_seccomp *hook_filter;
	bool nnp = false, cwd_retry = false;
	json_object *args = NULL, *env = NULL;
	char **argv = NULL, **envp = NULL, path[PATH_MAX];

	if (nsx_caps_parse(nsx_json_get(ctx->process, "capabilities"), &caps, e) ||
	    nsx_json_bool(ctx->process, "noNewPrivileges", &nnp, e) || nsx_json_array(ctx->process, "args", &args, e) ||
	    nsx_json_array(ctx->process, "env", &env, e) || nsx_json_strv(args, "process.args", &argv, e) ||
	    nsx_json_strv(env, "process.env", &envp, e))
		return -1;
	if (!ctx->no_new_keyring && nsx_join_session_keyring(e))
		return -1;
	if (nsx_set_rlimits(ctx->process, e) || nsx_set_oom_score_adj(ctx->process, e) ||
	    nsx_set_personality(ctx->lnx, e) || nsx_set_io_priority(ctx->process, e) ||
	    nsx_set_scheduler(ctx->process, e) || nsx_set_umask(ctx->process, e))
		return -1;
	if (nnp && nsx_set_no_new_privs(e))
		return -1;
	/* before any filter: a profile need not allow close_range */
	if (nsx_exec_cloexec_from(3 + (int)ctx->preserve_fds, e))
		return -1;
	/* privileged, and before any filter: a profile need not allow chdir or getcwd */
	if (nsx_cwd_try(ctx->process, &cwd_retry, e))
		return -1;
	if (seccomp_early(ctx, nnp, &caps) && nsx_seccomp_load(ctx->seccomp, ctx->state, ctx->host_pid, e))
		return -1;
	if (nsx_set_identity(ctx->process, &caps, e) || (cwd_retry && nsx_cwd_retry(ctx->process, e)))
		return -1;
	envp = with_home(envp, getuid());
	if (nsx_exec_lookup(argv[0], envp, path, sizeof(path), e))
		return -1;
	if (!ctx->exec_mode) {
		if (nsx_sync_send_type(ctx->sync_fd, "created", e))
			return -1;
		if (ctx->fifo_fd >= 0 && nsx_fifo_wait(ctx->fifo_fd, e))
			return -1;
		ctx->fifo_fd = -1;
		if (ctx->start_on_continue && nsx_sync_wait_continue(ctx->sync_fd, NULL, e))
			return -1;
		/* the hooks run under the filter: inherited when it is already in, else loaded by each hook's process */
		hook_filter = seccomp_early(ctx, nnp, &caps) ? NULL : ctx->seccomp;
		if (nsx_seccomp_for_hooks(hook_filter, e) ||
		    nsx_run_hooks(ctx->hooks, "startContainer", ctx->state, hook_filter, e))
			return -1;
	}
	if (!seccomp_early(ctx, nnp, &caps) && ctx->seccomp && nsx_seccomp_load(ctx->seccomp, ctx->state, ctx->host_pid, e))
		return -1;
	return nsx_exec(path, argv, envp, e);
}
