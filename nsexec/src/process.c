#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <linux/sched/types.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "jsonutil.h"
#include "userns.h"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_CPU", RLIMIT_CPU },       { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_STACK", RLIMIT_STACK },   { "RLIMIT_CORE", RLIMIT_CORE },       { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },   { "RLIMIT_NOFILE", RLIMIT_NOFILE },   { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_AS", RLIMIT_AS },         { "RLIMIT_LOCKS", RLIMIT_LOCKS },     { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int nsx_set_rlimits(json_object *process, struct nsx_error *e)
{
	json_object *list = NULL;
	size_t n;

	if (nsx_json_array(process, "rlimits", &list, e))
		return -1;
	n = list ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(list, i);
		const char *type = NULL;
		int64_t hard = 0, soft = 0;
		size_t k;
		struct rlimit rl;

		if (nsx_json_string(r, "type", &type, e) || nsx_json_int64(r, "hard", &hard, e) ||
		    nsx_json_int64(r, "soft", &soft, e))
			return -1;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (type && !strcmp(type, rlimit_names[k].name))
				break;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return nsx_fail(e, "rlimits", NULL, 0, NULL, "unknown rlimit type \"%s\"", type ? type : "");
		/* JSON carries 2^64-1 (RLIM_INFINITY) as a wrapped negative int64 */
		rl.rlim_cur = (rlim_t)(uint64_t)soft;
		rl.rlim_max = (rlim_t)(uint64_t)hard;
		if (setrlimit(rlimit_names[k].resource, &rl) < 0)
			return nsx_fail(e, "rlimits", "setrlimit", errno, NULL, "error setting rlimit type %s", type);
	}
	return 0;
}

int nsx_set_oom_score_adj(json_object *process, struct nsx_error *e)
{
	int64_t adj = 0;
	char text[32];
	int fd, len;

	if (!nsx_json_get(process, "oomScoreAdj"))
		return 0;
	if (nsx_json_int64(process, "oomScoreAdj", &adj, e))
		return -1;
	len = snprintf(text, sizeof(text), "%lld", (long long)adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nsx_fail(e, "oomScoreAdj", "open", errno, "/proc/self/oom_score_adj", "set oom_score_adj");
	if (write(fd, text, len) != len) {
		int err = errno;
		close(fd);
		return nsx_fail(e, "oomScoreAdj", "write", err, "/proc/self/oom_score_adj", "set oom_score_adj to %s", text);
	}
	close(fd);
	return 0;
}

int nsx_set_personality(json_object *lnx, struct nsx_error *e)
{
	json_object *p = NULL;
	const char *domain = NULL;
	unsigned long persona;

	if (nsx_json_object(lnx, "personality", &p, e) || !p || nsx_json_string(p, "domain", &domain, e))
		return p ? -1 : 0;
	if (domain && !strcmp(domain, "LINUX"))
		persona = PER_LINUX;
	else if (domain && !strcmp(domain, "LINUX32"))
		persona = PER_LINUX32;
	else
		return nsx_fail(e, "personality", NULL, 0, NULL, "unsupported personality domain \"%s\"", domain ? domain : "");
	if (personality(persona) < 0)
		return nsx_fail(e, "personality", "personality", errno, NULL, "set personality %s", domain);
	return 0;
}

int nsx_join_session_keyring(struct nsx_error *e)
{
	/* KEYCTL_JOIN_SESSION_KEYRING with no name: a new anonymous keyring */
	if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL) < 0 && errno != ENOSYS)
		return nsx_fail(e, "keyring", "keyctl", errno, NULL, "join a new session keyring");
	return 0;
}

int nsx_set_no_new_privs(struct nsx_error *e)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nsx_fail(e, "noNewPrivileges", "prctl", errno, NULL, "set no_new_privs");
	return 0;
}

static int set_groups(json_object *user, struct nsx_error *e)
{
	json_object *extra = NULL;
	size_t n;
	gid_t groups[NGROUPS_MAX > 256 ? 256 : NGROUPS_MAX];

	if (nsx_json_array(user, "additionalGids", &extra, e))
		return -1;
	n = extra ? json_object_array_length(extra) : 0;
	if (n > sizeof(groups) / sizeof(groups[0]))
		return nsx_fail(e, "user", NULL, 0, NULL, "too many additionalGids");
	for (size_t i = 0; i < n; i++)
		groups[i] = (gid_t)json_object_get_int64(json_object_array_get_idx(extra, i));
	/* Where setgroups is denied (some user namespaces) nothing can be changed;
	 * the inherited list is empty there anyway unless groups were asked for. */
	if (nsx_userns_setgroups_denied()) {
		if (n)
			return nsx_fail(e, "user", "setgroups", EPERM, NULL, "set additional groups (setgroups is denied)");
		return 0;
	}
	if (setgroups(n, groups) < 0)
		return nsx_fail(e, "user", "setgroups", errno, NULL, "set additional groups");
	return 0;
}

int nsx_set_identity(json_object *process, const struct nsx_caps *caps, struct nsx_error *e)
{
	json_object *user = NULL;
	int64_t uid = 0, gid = 0;

	if (nsx_json_object(process, "user", &user, e) || nsx_json_int64(user, "uid", &uid, e) ||
	    nsx_json_int64(user, "gid", &gid, e))
		return -1;
	if (nsx_caps_drop_bounding(caps, e))
		return -1;
	/* keep the permitted set across the switch away from uid 0; capset below
	 * then trims it to exactly the configuration */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return nsx_fail(e, "user", "prctl", errno, NULL, "keep capabilities across the user switch");
	if (set_groups(user, e))
		return -1;
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
		return nsx_fail(e, "user", "setresgid", errno, NULL, "setgid %lld", (long long)gid);
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		return nsx_fail(e, "user", "setresuid", errno, NULL, "setuid %lld", (long long)uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return nsx_fail(e, "user", "prctl", errno, NULL, "reset keepcaps");
	return nsx_caps_apply(caps, e);
}

int nsx_set_umask(json_object *process, struct nsx_error *e)
{
	json_object *user = NULL;
	int64_t mask = 022;

	if (nsx_json_object(process, "user", &user, e) || nsx_json_int64(user, "umask", &mask, e))
		return -1;
	umask((mode_t)mask & 0777);
	return 0;
}

/* chdir(cwd), then the check runc makes since CVE-2024-21626: a directory fd leaked
 * from outside the root would make the cwd unreachable from it, which getcwd(3)
 * reports as ENOENT (the kernel prefixes "(unreachable)"). */
static int enter_cwd(const char *cwd, struct nsx_error *e)
{
	char buf[PATH_MAX];

	if (chdir(cwd) < 0)
		return nsx_fail(e, "cwd", "chdir", errno, cwd, "chdir to cwd (\"%s\") set in config.json failed", cwd);
	if (!getcwd(buf, sizeof(buf))) {
		if (errno == ENOENT)
			return nsx_fail(e, "cwd", "getcwd", ENOENT, cwd,
					"current working directory is outside of container mount namespace root -- possible container breakout detected");
		return nsx_fail(e, "cwd", "getcwd", errno, cwd, "failed to verify if current working directory is safe");
	}
	if (buf[0] != '/')
		return nsx_fail(e, "cwd", "getcwd", 0, cwd,
				"current working directory is not absolute -- possible container breakout detected: cwd is \"%s\"", buf);
	return 0;
}

static const char *cwd_of(json_object *process, struct nsx_error *e)
{
	const char *cwd = "/";

	return nsx_json_string(process, "cwd", &cwd, e) ? NULL : cwd;
}

int nsx_cwd_try(json_object *process, bool *retry, struct nsx_error *e)
{
	const char *cwd = cwd_of(process, e);

	if (!cwd)
		return -1;
	*retry = false;
	if (enter_cwd(cwd, e) == 0)
		return 0;
	if (strcmp(e->syscall, "chdir") || (e->err != EACCES && e->err != EPERM))
		return -1;
	*retry = true; /* the container's user may be let in where we are not (a volume chowned to it) */
	memset(e, 0, sizeof(*e));
	return 0;
}

int nsx_cwd_retry(json_object *process, struct nsx_error *e)
{
	const char *cwd = cwd_of(process, e);

	return cwd ? enter_cwd(cwd, e) : -1;
}

static int lookup(const char *name, const char *const *names, const int *values, int *out)
{
	for (size_t i = 0; names[i]; i++)
		if (name && !strcmp(name, names[i])) {
			*out = values[i];
			return 0;
		}
	return -1;
}

int nsx_set_io_priority(json_object *process, struct nsx_error *e)
{
	static const char *const names[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL };
	static const int classes[] = { 1, 2, 3 };
	json_object *io = NULL;
	const char *cls = NULL;
	int64_t prio = 0;
	int c;

	if (nsx_json_object(process, "ioPriority", &io, e) || !io)
		return io ? -1 : 0;
	if (nsx_json_string(io, "class", &cls, e) || nsx_json_int64(io, "priority", &prio, e))
		return -1;
	if (lookup(cls, names, classes, &c) || prio < 0 || prio > 7)
		return nsx_fail(e, "ioPriority", NULL, 0, NULL, "invalid ioPriority class \"%s\" or priority %lld", cls ? cls : "",
				(long long)prio);
	/* IOPRIO_WHO_PROCESS, this process; class in the top bits (IOPRIO_CLASS_SHIFT 13) */
	if (syscall(SYS_ioprio_set, 1, 0, (c << 13) | (int)prio) < 0)
		return nsx_fail(e, "ioPriority", "ioprio_set", errno, NULL, "set the I/O priority");
	return 0;
}

int nsx_set_scheduler(json_object *process, struct nsx_error *e)
{
	static const char *const policies[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
						"SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE", NULL };
	static const int policy_values[] = { 0, 1, 2, 3, 4, 5, 6 };
	static const char *const flags[] = { "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
					     "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS",
					     "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX", NULL };
	static const int flag_values[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40 };
	json_object *sch = NULL, *fl = NULL;
	const char *policy = NULL;
	int64_t nice = 0, prio = 0, runtime = 0, deadline = 0, period = 0;
	struct sched_attr attr = { .size = sizeof(attr) };
	int v;

	if (nsx_json_object(process, "scheduler", &sch, e) || !sch)
		return sch ? -1 : 0;
	if (nsx_json_string(sch, "policy", &policy, e) || nsx_json_int64(sch, "nice", &nice, e) ||
	    nsx_json_int64(sch, "priority", &prio, e) || nsx_json_int64(sch, "runtime", &runtime, e) ||
	    nsx_json_int64(sch, "deadline", &deadline, e) || nsx_json_int64(sch, "period", &period, e) ||
	    nsx_json_array(sch, "flags", &fl, e))
		return -1;
	if (lookup(policy, policies, policy_values, &v))
		return nsx_fail(e, "scheduler", NULL, 0, NULL, "unknown scheduler policy \"%s\"", policy ? policy : "");
	attr.sched_policy = (uint32_t)v;
	for (size_t i = 0; fl && i < json_object_array_length(fl); i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(fl, i));
		if (lookup(f, flags, flag_values, &v))
			return nsx_fail(e, "scheduler", NULL, 0, NULL, "unknown scheduler flag \"%s\"", f ? f : "");
		attr.sched_flags |= (uint64_t)v;
	}
	attr.sched_nice = (int32_t)nice;
	attr.sched_priority = (uint32_t)prio;
	attr.sched_runtime = (uint64_t)runtime;
	attr.sched_deadline = (uint64_t)deadline;
	attr.sched_period = (uint64_t)period;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return nsx_fail(e, "scheduler", "sched_setattr", errno, NULL, "set the scheduler policy %s", policy);
	return 0;
}
