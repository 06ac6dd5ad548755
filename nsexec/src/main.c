/* nsexec: the single-threaded helper that builds and enters containers for the
 * rocker runtime. Usage: nsexec <sync-fd> (see PROTOCOL.md), or nsexec --features. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "create.h"
#include "ctx.h"
#include "join.h"
#include "jsonutil.h"
#include "seccomp.h"
#include "selfclone.h"
#include "sync.h"

#define NSX_PROTOCOL_VERSION 1

static int parse_fd(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1 << 20)
		return -1;
	return (int)v;
}

static int check_init(json_object *init, struct nsx_error *e)
{
	const char *type = NULL;
	int64_t version = 0;

	if (nsx_json_string(init, "type", &type, e) || nsx_json_int64(init, "version", &version, e))
		return -1;
	if (!type || strcmp(type, "init"))
		return nsx_fail(e, "protocol", NULL, 0, NULL, "expected an init message");
	if (version != NSX_PROTOCOL_VERSION)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "unsupported protocol version %lld (nsexec speaks %d)",
				(long long)version, NSX_PROTOCOL_VERSION);
	return 0;
}

/* `nsexec --features`: what this build supports, for `rocker-runtime features`
 * (the linux.seccomp member of the runtime-spec features document). */
static int print_features(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "seccomp", nsx_seccomp_features());
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv, char **envp)
{
	struct nsx_error e = { 0 };
	struct nsx_ctx ctx;
	json_object *init = NULL;
	int fd;

	if (argc == 2 && !strcmp(argv[1], "--features"))
		return print_features();
	fd = parse_fd(argc == 2 ? argv[1] : NULL);

	if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
		static const char usage[] = "usage: nsexec <sync-fd> (started by rocker-runtime) | nsexec --features\n";
		if (write(2, usage, sizeof(usage) - 1) < 0)
			return 2;
		return 2;
	}
	if (nsx_ensure_sealed_self(argc, argv, envp) < 0) {
		nsx_fail(&e, "selfclone", "execve", errno, "/proc/self/exe", "re-execute from a sealed copy");
		nsx_report_error(fd, &e);
		return 1;
	}
	/* nothing of ours may reach the container, and nobody may ptrace or read our
	 * memory through /proc while we hold host resources */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		nsx_fail(&e, "protocol", "prctl", errno, NULL, "set up nsexec");
		nsx_report_error(fd, &e);
		return 1;
	}
	if (nsx_sync_read(fd, &init, &e) || check_init(init, &e) || nsx_ctx_load(&ctx, init, fd, &e)) {
		nsx_report_error(fd, &e);
		return 1;
	}
	if (ctx.exec_mode)
		nsx_join(&ctx, &e);
	else
		nsx_create(&ctx, &e);
	nsx_report_error(fd, &e);
	return 1;
}
