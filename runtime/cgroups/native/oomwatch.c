/*
 * rocker-oomwatch <v1-memory-cgroup-dir>: registers an eventfd for the cgroup's
 * memory.oom_control through cgroup.event_control (the kernel's OOM
 * notification; Node cannot create eventfds), prints "ready", then one "oom"
 * line each time the kernel signals an OOM in the cgroup. It exits 0 when the
 * cgroup is removed (the kernel signals the eventfd then too) and dies with its
 * parent. Errors go to stderr as one line; the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	char oom_control[PATH_MAX], event_control[PATH_MAX], line[64];

	if (argc != 2) {
		fprintf(stderr, "usage: rocker-oomwatch <memory-cgroup-dir>\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(oom_control, sizeof(oom_control), "%s/memory.oom_control", argv[1]);
	snprintf(event_control, sizeof(event_control), "%s/cgroup.event_control", argv[1]);

	int efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return fail("eventfd", "");
	int ofd = open(oom_control, O_RDONLY | O_CLOEXEC);
	if (ofd < 0)
		return fail("open", oom_control);
	int cfd = open(event_control, O_WRONLY | O_CLOEXEC);
	if (cfd < 0)
		return fail("open", event_control);
	int len = snprintf(line, sizeof(line), "%d %d", efd, ofd);
	if (write(cfd, line, (size_t)len) != len)
		return fail("write", event_control);
	close(cfd);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (;;) {
		uint64_t count;
		if (read(efd, &count, sizeof(count)) != sizeof(count)) {
			if (errno == EINTR)
				continue;
			return fail("read", "eventfd");
		}
		if (access(oom_control, F_OK) != 0)
			return 0;
		printf("oom\n");
	}
}
