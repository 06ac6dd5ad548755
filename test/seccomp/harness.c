/* Test driver for nsexec's seccomp.c and selfclone.c, outside the full runtime:
 *   harness compile PROFILE.json OUT          compile PROFILE into the exec cache file OUT
 *                                             (nothing is loaded: no privilege needed)
 *   harness run PROFILE.json STATE|- CMD...   seal self, prepare + load PROFILE, exec CMD
 *   harness exe-report                        seal self, then report on /proc/self/exe
 *   harness features                          print nsx_seccomp_features()
 *   harness agent SOCKET ERRNO                a one-shot seccomp notify agent: prints the
 *                                             container process state, answers one
 *                                             notification with -ERRNO */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../nsexec/src/seccomp.h"
#include "../../nsexec/src/selfclone.h"

extern char **environ;

static int run(int argc, char **argv)
{
	struct nsx_error e = { 0 };
	struct nsx_seccomp *f;
	json_object *profile = json_object_from_file(argv[2]);

	if (!profile) {
		fprintf(stderr, "cannot read %s\n", argv[2]);
		return 2;
	}
	if (nsx_seccomp_prepare(profile, &f, &e) < 0 ||
	    nsx_seccomp_load(f, strcmp(argv[3], "-") ? argv[3] : NULL, 0, &e) < 0) {
		nsx_report_error(2, &e);
		return 1;
	}
	(void)argc;
	execvp(argv[4], argv + 4);
	perror("execvp");
	return 127;
}

static int compile(const char *profile_path, const char *out)
{
	struct nsx_error e = { 0 };
	struct nsx_seccomp *f;
	json_object *profile = json_object_from_file(profile_path);

	if (!profile) {
		fprintf(stderr, "cannot read %s\n", profile_path);
		return 2;
	}
	if (nsx_seccomp_prepare_cached(profile, out, &f, &e) < 0) {
		nsx_report_error(2, &e);
		return 1;
	}
	nsx_seccomp_free(f);
	json_object_put(profile);
	return 0;
}

static int exe_report(void)
{
	int ro = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int rw = open("/proc/self/exe", O_RDWR | O_CLOEXEC);
	int write_errno = 0;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
	if (rw >= 0 && write(rw, "X", 1) < 0)
		write_errno = errno;
	else if (rw < 0)
		write_errno = errno;
	{
		int rw2 = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		printf("{\"seals\":%d,\"writeErrno\":%d,\"reopenErrno\":%d}\n", fcntl(ro, F_GET_SEALS), write_errno,
		       rw2 < 0 ? errno : 0);
	}
	return 0;
}

static int agent(const char *path, int answer)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[65536], control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	json_object *state;
	int srv = socket(AF_UNIX, SOCK_STREAM, 0), conn, fd = -1;
	ssize_t n;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (bind(srv, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(srv, 1) < 0)
		return perror("bind"), 2;
	printf("listening\n");
	fflush(stdout);
	conn = accept(srv, NULL, NULL);
	n = recvmsg(conn, &msg, 0);
	if (n <= 0 || !CMSG_FIRSTHDR(&msg))
		return fprintf(stderr, "no fd received\n"), 2;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	buf[n] = 0;
	/* The state may come in several writes; the sender need not close before we answer. */
	while (!(state = json_tokener_parse(buf)) &&
	       (n = read(conn, buf + strlen(buf), sizeof(buf) - 1 - strlen(buf))) > 0)
		buf[strlen(buf) + (size_t)n] = 0;
	json_object_put(state);
	printf("%s\n", buf);
	fflush(stdout);
	if (seccomp_notify_alloc(&req, &resp) < 0 || seccomp_notify_receive(fd, req) < 0)
		return perror("seccomp_notify_receive"), 2;
	resp->id = req->id;
	resp->error = -answer;
	resp->val = 0;
	resp->flags = 0;
	if (seccomp_notify_respond(fd, resp) < 0)
		return perror("seccomp_notify_respond"), 2;
	printf("{\"notifiedSyscall\":\"%s\"}\n", seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "agent") && argc == 4)
		return agent(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "compile"))
		return compile(argv[2], argv[3]);
	if (nsx_ensure_sealed_self(argc, argv, environ) < 0) {
		perror("nsx_ensure_sealed_self");
		return 1;
	}
	if (argc >= 2 && !strcmp(argv[1], "features")) {
		puts(json_object_to_json_string_ext(nsx_seccomp_features(), JSON_C_TO_STRING_PLAIN));
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "exe-report"))
		return exe_report();
	if (argc >= 5 && !strcmp(argv[1], "run"))
		return run(argc, argv);
	fprintf(stderr, "usage: see harness.c\n");
	return 2;
}
