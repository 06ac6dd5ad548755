#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "jsonutil.h"

static const struct {
	const char *oci;    /* linux.namespaces[].type */
	const char *proc;   /* /proc/<pid>/ns/<proc> */
	int flag;
} ns_table[NSX_NS_COUNT] = {
	[NSX_NS_USER] = { "user", "user", CLONE_NEWUSER },
	[NSX_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[NSX_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
	[NSX_NS_NET] = { "network", "net", CLONE_NEWNET },
	[NSX_NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[NSX_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[NSX_NS_TIME] = { "time", "time", CLONE_NEWTIME },
	[NSX_NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
};

int nsx_ns_plan_load(json_object *namespaces, struct nsx_ns_plan *plan, struct nsx_error *e)
{
	size_t n = namespaces ? json_object_array_length(namespaces) : 0;

	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < n; i++) {
		json_object *ns = json_object_array_get_idx(namespaces, i);
		const char *type = NULL, *path = NULL;
		int k;

		if (nsx_json_string(ns, "type", &type, e) || nsx_json_string(ns, "path", &path, e))
			return -1;
		for (k = 0; k < NSX_NS_COUNT; k++)
			if (type && !strcmp(type, ns_table[k].oci))
				break;
		if (k == NSX_NS_COUNT)
			return nsx_fail(e, "namespaces", NULL, 0, NULL, "namespace type \"%s\" is not supported", type ? type : "");
		if (plan->listed[k])
			return nsx_fail(e, "namespaces", NULL, 0, NULL, "duplicate namespace type \"%s\"", type);
		plan->listed[k] = true;
		plan->path[k] = path && *path ? path : NULL;
	}
	return 0;
}

int nsx_ns_join_paths(const struct nsx_ns_plan *plan, struct nsx_error *e)
{
	int fds[NSX_NS_COUNT];
	int rc = 0;

	for (int k = 0; k < NSX_NS_COUNT; k++)
		fds[k] = -1;
	for (int k = 0; k < NSX_NS_COUNT && !rc; k++) {
		if (!plan->path[k])
			continue;
		fds[k] = open(plan->path[k], O_RDONLY | O_CLOEXEC);
		if (fds[k] < 0)
			rc = nsx_fail(e, "namespaces", "open", errno, plan->path[k], "open %s namespace %s", ns_table[k].oci, plan->path[k]);
	}
	for (int k = 0; k < NSX_NS_COUNT && !rc; k++) {
		/* the nstype argument makes the kernel refuse a file of another kind */
		if (fds[k] >= 0 && setns(fds[k], ns_table[k].flag) < 0)
			rc = nsx_fail(e, "namespaces", "setns", errno, plan->path[k], "join %s namespace %s", ns_table[k].oci, plan->path[k]);
	}
	for (int k = 0; k < NSX_NS_COUNT; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	return rc;
}

unsigned long nsx_ns_clone_flags(const struct nsx_ns_plan *plan)
{
	unsigned long flags = 0;

	for (int k = 0; k < NSX_NS_COUNT; k++)
		if (plan->listed[k] && !plan->path[k] && k != NSX_NS_CGROUP && k != NSX_NS_TIME)
			flags |= ns_table[k].flag;
	return flags;
}

static int write_offset(int fd, const char *clock, json_object *offsets, struct nsx_error *e)
{
	json_object *o = nsx_json_get(offsets, clock);
	int64_t secs = 0, nanos = 0;
	char line[96];
	int len;

	if (!o)
		return 0;
	if (nsx_json_int64(o, "secs", &secs, e) || nsx_json_int64(o, "nanosecs", &nanos, e))
		return -1;
	len = snprintf(line, sizeof(line), "%s %lld %lld\n", clock, (long long)secs, (long long)nanos);
	if (write(fd, line, len) != len)
		return nsx_fail(e, "namespaces", "write", errno, "/proc/self/timens_offsets", "set %s time offset", clock);
	return 0;
}

int nsx_ns_unshare_time(const struct nsx_ns_plan *plan, json_object *lnx, struct nsx_error *e)
{
	json_object *offsets = nsx_json_get(lnx, "timeOffsets");
	int fd, rc;

	if (!plan->listed[NSX_NS_TIME] || plan->path[NSX_NS_TIME])
		return 0;
	if (unshare(CLONE_NEWTIME) < 0)
		return nsx_fail(e, "namespaces", "unshare", errno, NULL, "create time namespace");
	if (!offsets)
		return 0;
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nsx_fail(e, "namespaces", "open", errno, "/proc/self/timens_offsets", "set time offsets");
	rc = write_offset(fd, "monotonic", offsets, e);
	if (!rc)
		rc = write_offset(fd, "boottime", offsets, e);
	close(fd);
	return rc;
}

int nsx_ns_unshare_cgroup(const struct nsx_ns_plan *plan, struct nsx_error *e)
{
	if (!plan->listed[NSX_NS_CGROUP] || plan->path[NSX_NS_CGROUP])
		return 0;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return nsx_fail(e, "namespaces", "unshare", errno, NULL, "create cgroup namespace");
	return 0;
}

int nsx_ns_open_process(int pid, struct nsx_error *e)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	char path[64];

	if (pidfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		return nsx_fail(e, "namespaces", "pidfd_open", errno, path, "open container process %d", pid);
	}
	return pidfd;
}

int nsx_ns_join_process(const struct nsx_ns_plan *plan, int pidfd, int pid, struct nsx_error *e)
{
	char path[64];
	int flags = 0;

	for (int k = 0; k < NSX_NS_COUNT; k++)
		if (plan->listed[k])
			flags |= ns_table[k].flag;
	/* setns on a pidfd enters all the namespaces at once, in the kernel's own safe
	 * order. Entering the mount namespace also lands on its root as the container
	 * sees it (mounts stacked on the namespace root are followed, so noPivot
	 * containers work too). */
	if (flags && setns(pidfd, flags) < 0) {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		return nsx_fail(e, "namespaces", "setns", errno, path, "join namespaces of process %d", pid);
	}
	return 0;
}
