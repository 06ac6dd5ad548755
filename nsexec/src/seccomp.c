#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "bpfcache.h"
#include "enosys.h"

/* The name tables below are the single source of truth for both parsing and
 * `nsexec --features`, so the two can never disagree. */

struct action_name {
	const char *name;
	uint32_t action;   /* for ERRNO and TRACE: the base, the errno is added later */
	int takes_errno;
};

static const struct action_name actions[] = {
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, 0 },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), 1 },
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL, 0 },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, 0 },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, 0 },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, 0 },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, 0 },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), 1 },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, 0 },
};

struct operator_name {
	const char *name;
	enum scmp_compare op;
};

static const struct operator_name operators[] = {
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },
	{ "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	{ "SCMP_CMP_NE", SCMP_CMP_NE },
};

struct arch_name {
	const char *name;
	uint32_t arch;
};

static const struct arch_name archs[] = {
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390 },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32 },
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86 },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
#ifdef SCMP_ARCH_LOONGARCH64
	{ "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#endif
#ifdef SCMP_ARCH_M68K
	{ "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#endif
#ifdef SCMP_ARCH_SH
	{ "SCMP_ARCH_SH", SCMP_ARCH_SH },
	{ "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#endif
};

/* A flag is known when the spec names it; it is supported when this libseccomp
 * has the attribute for it (attr >= 0) and its API level is high enough. */
struct flag_name {
	const char *name;
	int attr;
	unsigned int min_api;
	unsigned int kernel;  /* the seccomp(2) flag libseccomp loads with for it */
};

static const struct flag_name flags[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, 2, SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, 4, SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, 3, SECCOMP_FILTER_FLAG_LOG },
#ifdef SCMP_FLTATR_CTL_WAITKILL
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL, 7, 1U << 5 },
#else
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", -1, 0, 1U << 5 },
#endif
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Syscalls nsexec itself makes between loading the filter and execve: handing
 * them to a notify agent that is still waiting for our message would deadlock. */
static const char *const notify_forbidden[] = { "write", "sendmsg" };

struct nsx_seccomp {
	scmp_filter_ctx ctx;
	struct nsx_bpf bpf;  /* the program itself, when exported or read from the cache */
	int listener;        /* connected to listenerPath when NOTIFY is used, else -1 */
	char *metadata;      /* listenerMetadata, or NULL */
};

static int flag_supported(const struct flag_name *f)
{
	return f->attr >= 0 && seccomp_api_get() >= f->min_api;
}

static const char *string_field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static json_object *array_field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* Index of `name` in a table whose entries begin with their name, or -1. */
static int find_name(const void *table, size_t stride, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(*(const char *const *)((const char *)table + i * stride), name))
			return (int)i;
	return -1;
}

#define FIND(table, name) find_name((table), sizeof((table)[0]), COUNT(table), (name))

/* Resolves an action name plus its optional errnoRet (NULL when absent). */
static int parse_action(const char *name, json_object *errno_ret, const char *where, uint32_t *out,
			struct nsx_error *e)
{
	int i = FIND(actions, name);

	if (!name)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "%s: action is required", where);
	if (i < 0)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "%s: unknown seccomp action %s", where, name);
	if (!actions[i].takes_errno && errno_ret)
		return nsx_fail(e, "seccomp", NULL, 0, NULL,
				"%s: errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not %s", where, name);
	*out = actions[i].action;
	if (actions[i].takes_errno)
		*out |= errno_ret ? (uint32_t)json_object_get_int64(errno_ret) & 0xffffU : EPERM;
	return 0;
}

static int parse_operator(const char *name, enum scmp_compare *out, struct nsx_error *e)
{
	int i = FIND(operators, name);

	if (i < 0)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "unknown seccomp operator %s", name ? name : "(none)");
	*out = operators[i].op;
	return 0;
}

static int add_architecture(scmp_filter_ctx ctx, const char *name, struct nsx_error *e)
{
	int i = FIND(archs, name), rc;

	if (i < 0)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "unknown seccomp architecture %s", name);
	rc = seccomp_arch_add(ctx, archs[i].arch);
	if (rc < 0 && rc != -EEXIST) /* the native one is always there */
		return nsx_fail(e, "seccomp", "seccomp_arch_add", -rc, NULL, "adding architecture %s", name);
	return 0;
}

static int set_flag(scmp_filter_ctx ctx, const char *name, struct nsx_error *e)
{
	int i = FIND(flags, name), rc;

	if (i < 0)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "unknown seccomp flag %s", name);
	if (!flag_supported(&flags[i]))
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "seccomp flag %s is not supported", name);
	rc = seccomp_attr_set(ctx, (enum scmp_filter_attr)flags[i].attr, 1);
	if (rc < 0)
		return nsx_fail(e, "seccomp", "seccomp_attr_set", -rc, NULL, "setting seccomp flag %s", name);
	return 0;
}

/* Applies `apply` to every string of a JSON array (absent means empty). */
static int for_each_name(scmp_filter_ctx ctx, json_object *list,
			 int (*apply)(scmp_filter_ctx, const char *, struct nsx_error *), struct nsx_error *e)
{
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++)
		if (apply(ctx, json_object_get_string(json_object_array_get_idx(list, i)), e) < 0)
			return -1;
	return 0;
}

/* Reads args[] into conds; returns the count, or -1. */
static int parse_conditions(json_object *args, struct scmp_arg_cmp *conds, size_t max, struct nsx_error *e)
{
	size_t i, n = args ? json_object_array_length(args) : 0;

	if (n > max)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "too many seccomp argument conditions (%zu)", n);
	for (i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(args, i), *v;
		int64_t index = json_object_object_get_ex(a, "index", &v) ? json_object_get_int64(v) : -1;

		if (index < 0 || index > 5)
			return nsx_fail(e, "seccomp", NULL, 0, NULL, "seccomp argument index %lld out of range 0-5",
					(long long)index);
		conds[i].arg = (unsigned int)index;
		if (parse_operator(string_field(a, "op"), &conds[i].op, e) < 0)
			return -1;
		conds[i].datum_a = json_object_object_get_ex(a, "value", &v) ? json_object_get_uint64(v) : 0;
		conds[i].datum_b = json_object_object_get_ex(a, "valueTwo", &v) ? json_object_get_uint64(v) : 0;
	}
	return (int)n;
}

static int same_index_twice(const struct scmp_arg_cmp *conds, int n)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (conds[i].arg == conds[j].arg)
				return 1;
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
		    const struct scmp_arg_cmp *conds, int n, struct nsx_error *e)
{
	int rc, i;

	/* libseccomp cannot AND two comparisons of the same argument; like runc,
	 * such conditions become one rule each (OR). */
	if (same_index_twice(conds, n)) {
		for (i = 0; i < n; i++)
			if (add_rule(ctx, action, nr, name, &conds[i], 1, e) < 0)
				return -1;
		return 0;
	}
	rc = seccomp_rule_add_array(ctx, action, nr, (unsigned int)n, conds);
	if (rc < 0)
		return nsx_fail(e, "seccomp", "seccomp_rule_add", -rc, NULL, "adding seccomp rule for %s", name);
	return 0;
}

static int is_notify_forbidden(const char *name)
{
	size_t i;

	for (i = 0; i < COUNT(notify_forbidden); i++)
		if (!strcmp(notify_forbidden[i], name))
			return 1;
	return 0;
}

static int add_syscall_entry(struct nsx_seccomp *f, uint32_t default_action, json_object *entry, size_t idx,
			     int *uses_notify, struct nsx_error *e)
{
	json_object *names = array_field(entry, "names"), *errno_ret;
	struct scmp_arg_cmp conds[6];
	char where[64];
	uint32_t action;
	size_t i, n;
	int nconds;

	snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", idx);
	if (!json_object_object_get_ex(entry, "errnoRet", &errno_ret))
		errno_ret = NULL;
	if (parse_action(string_field(entry, "action"), errno_ret, where, &action, e) < 0)
		return -1;
	nconds = parse_conditions(array_field(entry, "args"), conds, COUNT(conds), e);
	if (nconds < 0)
		return -1;
	if (action == default_action)
		return 0; /* the default already does it; libseccomp would refuse the rule */
	n = names ? json_object_array_length(names) : 0;
	for (i = 0; i < n; i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));
		int nr = seccomp_syscall_resolve_name(name);

		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp/arch: skipped, as runc does */
		if (action == SCMP_ACT_NOTIFY) {
			if (is_notify_forbidden(name))
				return nsx_fail(e, "seccomp", NULL, 0, NULL,
						"%s: SCMP_ACT_NOTIFY cannot be used for the %s syscall", where, name);
			*uses_notify = 1;
		}
		if (add_rule(f->ctx, action, nr, name, conds, nconds, e) < 0)
			return -1;
	}
	return 0;
}

/* The agent gets the connection now, while listenerPath still resolves on the
 * host: by the time the filter is loaded nsexec is inside the container root. */
static int connect_listener(const char *path, struct nsx_error *e)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return nsx_fail(e, "seccomp", NULL, 0, path, "seccomp listenerPath is too long");
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nsx_fail(e, "seccomp", "socket", errno, path, "creating seccomp listener socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;

		close(fd);
		return nsx_fail(e, "seccomp", "connect", err, path, "failed to connect with seccomp agent at listenerPath %s", path);
	}
	return fd;
}

static unsigned int kernel_flags(json_object *seccomp, int uses_notify);
static int attach_listener(struct nsx_seccomp *f, json_object *seccomp, struct nsx_error *e);
static int add_enosys_stub(struct nsx_seccomp *f, json_object *seccomp, uint32_t default_action, struct nsx_error *e);

static int build(struct nsx_seccomp *f, json_object *seccomp, struct nsx_error *e)
{
	json_object *syscalls = array_field(seccomp, "syscalls"), *errno_ret;
	uint32_t default_action;
	int uses_notify = 0, rc;
	size_t i, n;

	if (!json_object_object_get_ex(seccomp, "defaultErrnoRet", &errno_ret))
		errno_ret = NULL;
	if (parse_action(string_field(seccomp, "defaultAction"), errno_ret, "linux.seccomp.defaultAction",
			 &default_action, e) < 0)
		return -1;
	if (default_action == SCMP_ACT_NOTIFY)
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "SCMP_ACT_NOTIFY cannot be used as the default action");
	f->ctx = seccomp_init(default_action);
	if (!f->ctx)
		return nsx_fail(e, "seccomp", "seccomp_init", EINVAL, NULL, "creating the seccomp filter");
	/* Without NNP the kernel still accepts the filter when CAP_SYS_ADMIN is held,
	 * and noNewPrivileges stays the config's choice, as with runc. */
	rc = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return nsx_fail(e, "seccomp", "seccomp_attr_set", -rc, NULL, "clearing the seccomp NNP attribute");
	if (for_each_name(f->ctx, array_field(seccomp, "architectures"), add_architecture, e) < 0 ||
	    for_each_name(f->ctx, array_field(seccomp, "flags"), set_flag, e) < 0)
		return -1;
	n = syscalls ? json_object_array_length(syscalls) : 0;
	for (i = 0; i < n; i++)
		if (add_syscall_entry(f, default_action, json_object_array_get_idx(syscalls, i), i, &uses_notify, e) < 0)
			return -1;
	f->bpf.flags = kernel_flags(seccomp, uses_notify);
	if (add_enosys_stub(f, seccomp, default_action, e) < 0)
		return -1;
	return uses_notify ? attach_listener(f, seccomp, e) : 0;
}

/* What libseccomp passes to seccomp(2) for this config: the flags it names, and a
 * new listener when a rule notifies. */
static unsigned int kernel_flags(json_object *seccomp, int uses_notify)
{
	json_object *list = array_field(seccomp, "flags");
	unsigned int k = uses_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++) {
		int j = FIND(flags, json_object_get_string(json_object_array_get_idx(list, i)));

		if (j >= 0)
			k |= flags[j].kernel;
	}
	if ((k & SECCOMP_FILTER_FLAG_TSYNC) && (k & SECCOMP_FILTER_FLAG_NEW_LISTENER))
		k |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	return k;
}

static int attach_listener(struct nsx_seccomp *f, json_object *seccomp, struct nsx_error *e)
{
	const char *listener_path = string_field(seccomp, "listenerPath");
	const char *metadata = string_field(seccomp, "listenerMetadata");

	if (!listener_path || !listener_path[0])
		return nsx_fail(e, "seccomp", NULL, 0, NULL, "SCMP_ACT_NOTIFY is used but linux.seccomp.listenerPath is not set");
	if (metadata && !(f->metadata = strdup(metadata)))
		return nsx_fail(e, "seccomp", "strdup", ENOMEM, NULL, "copying listenerMetadata");
	f->listener = connect_listener(listener_path, e);
	return f->listener < 0 ? -1 : 0;
}

/* The compiled program, for the cache: libseccomp writes it to an fd. */
static int export_bpf(struct nsx_seccomp *f, struct nsx_error *e)
{
	int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC), rc;
	struct stat st;
	size_t size;

	if (fd < 0)
		return nsx_fail(e, "seccomp", "memfd_create", errno, NULL, "exporting the seccomp filter");
	rc = seccomp_export_bpf(f->ctx, fd);
	if (rc < 0 || fstat(fd, &st) < 0 || (size = (size_t)st.st_size) == 0 || size % sizeof(struct sock_filter) ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS || !(f->bpf.insns = malloc(size)) ||
	    pread(fd, f->bpf.insns, size, 0) != (ssize_t)size) {
		close(fd);
		return nsx_fail(e, "seccomp", "seccomp_export_bpf", rc < 0 ? -rc : EIO, NULL, "exporting the seccomp filter");
	}
	close(fd);
	f->bpf.len = (unsigned short)(size / sizeof(struct sock_filter));
	return 0;
}

/* The program is then libseccomp's with the ENOSYS stub (enosys.h) in front. */
static int add_enosys_stub(struct nsx_seccomp *f, json_object *seccomp, uint32_t default_action, struct nsx_error *e)
{
	json_object *list = array_field(seccomp, "architectures");
	size_t n = list ? json_object_array_length(list) : 0, len;
	uint32_t tokens[COUNT(archs)];
	struct sock_filter stub[NSX_ENOSYS_MAX_INSNS], *insns;

	if (n > COUNT(tokens))
		return 0;
	for (size_t i = 0; i < n; i++)
		tokens[i] = archs[FIND(archs, json_object_get_string(json_object_array_get_idx(list, i)))].arch;
	len = nsx_enosys_stub(default_action, tokens, n, array_field(seccomp, "syscalls"), stub);
	if (!len)
		return 0;
	if (export_bpf(f, e) < 0)
		return -1;
	if (f->bpf.len + len > BPF_MAXINSNS || !(insns = malloc((f->bpf.len + len) * sizeof(*insns))))
		return nsx_fail(e, "seccomp", NULL, E2BIG, NULL, "the seccomp filter with its ENOSYS check is too large");
	memcpy(insns, stub, len * sizeof(*insns));
	memcpy(insns + len, f->bpf.insns, f->bpf.len * sizeof(*insns));
	free(f->bpf.insns);
	f->bpf.insns = insns;
	f->bpf.len = (unsigned short)(f->bpf.len + len);
	return 0;
}

int nsx_seccomp_prepare_cached(json_object *seccomp, const char *cache, struct nsx_seccomp **out, struct nsx_error *e)
{
	struct nsx_seccomp *f;
	int rc;

	*out = NULL;
	if (!seccomp || json_object_is_type(seccomp, json_type_null))
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return nsx_fail(e, "seccomp", "calloc", ENOMEM, NULL, "allocating the seccomp filter");
	f->listener = -1;
	if (cache && nsx_bpf_cache_read(cache, &f->bpf) == 0) {
		rc = (f->bpf.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) ? attach_listener(f, seccomp, e) : 0;
	} else {
		rc = build(f, seccomp, e);
		if (!rc && cache && !f->bpf.insns)
			rc = export_bpf(f, e);
		if (!rc && cache)
			nsx_bpf_cache_write(cache, &f->bpf);
	}
	if (rc < 0) {
		nsx_seccomp_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

int nsx_seccomp_prepare(json_object *seccomp, struct nsx_seccomp **out, struct nsx_error *e)
{
	return nsx_seccomp_prepare_cached(seccomp, NULL, out, e);
}

/* The program as it is: what libseccomp's own load would pass to seccomp(2). */
static int load_bpf(struct nsx_seccomp *f, struct nsx_error *e)
{
	struct sock_fprog prog = { .len = f->bpf.len, .filter = f->bpf.insns };
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->bpf.flags, &prog);

	if (rc < 0)
		return nsx_fail(e, "seccomp", "seccomp", errno, NULL, "loading the seccomp filter");
	return (f->bpf.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) ? (int)rc : 0;
}

/* The container process state (config-linux.md) that goes with the fd. */
static char *process_state(const char *state, int64_t host_pid, const char *metadata)
{
	json_object *msg = json_object_new_object(), *fds = json_object_new_array();
	json_object *st = state ? json_tokener_parse(state) : NULL, *v;
	int64_t pid = getpid();
	char *text;

	if (host_pid > 0)
		pid = host_pid;
	else if (st && json_object_object_get_ex(st, "pid", &v))
		pid = json_object_get_int64(v);
	json_object_object_add(msg, "ociVersion",
			       json_object_new_string(st && json_object_object_get_ex(st, "ociVersion", &v)
							      ? json_object_get_string(v)
							      : "1.3.0"));
	json_object_array_add(fds, json_object_new_string("seccompFd"));
	json_object_object_add(msg, "fds", fds);
	json_object_object_add(msg, "pid", json_object_new_int64(pid));
	if (metadata)
		json_object_object_add(msg, "metadata", json_object_new_string(metadata));
	json_object_object_add(msg, "state", st ? st : json_object_new_object());
	text = strdup(json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(msg);
	return text;
}

static int send_listener_fd(struct nsx_seccomp *f, int notify_fd, const char *state, int64_t host_pid,
			    struct nsx_error *e)
{
	char *text = process_state(state, host_pid, f->metadata);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	size_t len, done = 0;

	if (!text)
		return nsx_fail(e, "seccomp", "strdup", ENOMEM, NULL, "building the seccomp listener message");
	len = strlen(text);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &notify_fd, sizeof(int));
	/* The fd travels with the first chunk only, as the spec requires. */
	while (done < len) {
		ssize_t n;

		iov.iov_base = text + done;
		iov.iov_len = len - done;
		n = sendmsg(f->listener, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			free(text);
			return nsx_fail(e, "seccomp", "sendmsg", err, NULL, "sending the seccomp fd to listenerPath");
		}
		done += (size_t)n;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	free(text);
	return 0;
}

int nsx_seccomp_load(struct nsx_seccomp *f, const char *state, int64_t host_pid, struct nsx_error *e)
{
	int rc, notify_fd;

	if (!f)
		return 0;
	if (f->bpf.insns) {
		notify_fd = load_bpf(f, e);
		if (notify_fd < 0)
			return -1;
	} else {
		rc = seccomp_load(f->ctx);
		if (rc < 0)
			return nsx_fail(e, "seccomp", "seccomp_load", -rc, NULL, "loading the seccomp filter");
		notify_fd = f->listener < 0 ? 0 : seccomp_notify_fd(f->ctx);
		if (notify_fd < 0)
			return nsx_fail(e, "seccomp", "seccomp_notify_fd", -notify_fd, NULL, "getting the seccomp notify fd");
	}
	if (f->listener < 0)
		return 0;
	rc = send_listener_fd(f, notify_fd, state, host_pid, e);
	/* Our copies must not reach the container: the agent owns the fd now. */
	close(notify_fd);
	close(f->listener);
	f->listener = -1;
	return rc;
}

int nsx_seccomp_for_hooks(struct nsx_seccomp *f, struct nsx_error *e)
{
	return f && !f->bpf.insns ? export_bpf(f, e) : 0;
}

int nsx_seccomp_load_copy(const struct nsx_seccomp *f)
{
	struct sock_fprog prog = { .len = f->bpf.len, .filter = f->bpf.insns };
	unsigned int flags = f->bpf.flags & ~(unsigned int)SECCOMP_FILTER_FLAG_NEW_LISTENER;

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0 ? errno : 0;
}

void nsx_seccomp_free(struct nsx_seccomp *f)
{
	if (!f)
		return;
	if (f->ctx)
		seccomp_release(f->ctx);
	free(f->bpf.insns);
	if (f->listener >= 0)
		close(f->listener);
	free(f->metadata);
	free(f);
}

/* The names of a table whose entries begin with their name, those `keep` accepts. */
static json_object *names_array(const void *table, size_t stride, size_t n, int (*keep)(const void *entry))
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		const void *entry = (const char *)table + i * stride;

		if (!keep || keep(entry))
			json_object_array_add(a, json_object_new_string(*(const char *const *)entry));
	}
	return a;
}

#define NAMES(table, keep) names_array((table), sizeof((table)[0]), COUNT(table), (keep))

static int keep_supported_flag(const void *entry)
{
	return flag_supported(entry);
}

json_object *nsx_seccomp_features(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "enabled", json_object_new_boolean(1));
	json_object_object_add(o, "actions", NAMES(actions, NULL));
	json_object_object_add(o, "operators", NAMES(operators, NULL));
	json_object_object_add(o, "archs", NAMES(archs, NULL));
	json_object_object_add(o, "knownFlags", NAMES(flags, NULL));
	json_object_object_add(o, "supportedFlags", NAMES(flags, keep_supported_flag));
	return o;
}
