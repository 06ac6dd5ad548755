#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "jsonutil.h"
#include "pathres.h"

struct mount_opts {
	unsigned long flags;            /* for mount(2) */
	unsigned long propagation[4];   /* applied one by one after the mount */
	int npropagation;
	struct mount_attr rec;          /* r* options, applied with AT_RECURSIVE */
	char data[4096];                /* everything else, comma-joined */
};

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} flag_opts[] = {
	{ "defaults", false, 0 },       { "ro", false, MS_RDONLY },       { "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },   { "suid", true, MS_NOSUID },      { "nodev", false, MS_NODEV },
	{ "dev", true, MS_NODEV },        { "noexec", false, MS_NOEXEC },   { "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS }, { "dirsync", false, MS_DIRSYNC },
	{ "remount", false, MS_REMOUNT }, { "mand", false, MS_MANDLOCK },   { "nomand", true, MS_MANDLOCK },
	{ "noatime", false, MS_NOATIME }, { "atime", true, MS_NOATIME },    { "nodiratime", false, MS_NODIRATIME },
	{ "diratime", true, MS_NODIRATIME }, { "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME }, { "nostrictatime", true, MS_STRICTATIME },
	{ "lazytime", false, MS_LAZYTIME }, { "nolazytime", true, MS_LAZYTIME }, { "silent", false, MS_SILENT },
	{ "loud", true, MS_SILENT },      { "iversion", false, MS_I_VERSION }, { "noiversion", true, MS_I_VERSION },
	{ "nosymfollow", false, MS_NOSYMFOLLOW }, { "symfollow", true, MS_NOSYMFOLLOW },
	{ "bind", false, MS_BIND },       { "rbind", false, MS_BIND | MS_REC },
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation_opts[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC }, { "shared", MS_SHARED },
	{ "rshared", MS_SHARED | MS_REC }, { "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

static const struct {
	const char *name;
	bool clear;
	__u64 attr;
} rec_opts[] = {
	{ "rro", false, MOUNT_ATTR_RDONLY },     { "rrw", true, MOUNT_ATTR_RDONLY },
	{ "rnosuid", false, MOUNT_ATTR_NOSUID }, { "rsuid", true, MOUNT_ATTR_NOSUID },
	{ "rnodev", false, MOUNT_ATTR_NODEV },   { "rdev", true, MOUNT_ATTR_NODEV },
	{ "rnoexec", false, MOUNT_ATTR_NOEXEC }, { "rexec", true, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", false, MOUNT_ATTR_NODIRATIME }, { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW }, { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

/* The atime options are one field in mount_setattr, not independent bits. */
static const struct {
	const char *name;
	__u64 attr;
} rec_atime_opts[] = {
	{ "rrelatime", MOUNT_ATTR_RELATIME }, { "rnorelatime", MOUNT_ATTR_STRICTATIME },
	{ "rnoatime", MOUNT_ATTR_NOATIME },   { "ratime", MOUNT_ATTR_STRICTATIME },
	{ "rstrictatime", MOUNT_ATTR_STRICTATIME },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

bool nsx_propagation_flags(const char *name, unsigned long *flags)
{
	for (size_t i = 0; i < N(propagation_opts); i++)
		if (!strcmp(name, propagation_opts[i].name)) {
			*flags = propagation_opts[i].flag;
			return true;
		}
	return false;
}

static int add_data(struct mount_opts *o, const char *opt, struct nsx_error *e)
{
	size_t len = strlen(o->data);

	if (len + strlen(opt) + 2 > sizeof(o->data))
		return nsx_fail(e, "mount", NULL, 0, NULL, "mount options too long");
	if (len)
		strcat(o->data, ",");
	strcat(o->data, opt);
	return 0;
}

static int parse_one(struct mount_opts *o, const char *opt, struct nsx_error *e)
{
	unsigned long pflags;

	for (size_t i = 0; i < N(flag_opts); i++)
		if (!strcmp(opt, flag_opts[i].name)) {
			if (flag_opts[i].clear)
				o->flags &= ~flag_opts[i].flag;
			else
				o->flags |= flag_opts[i].flag;
			return 0;
		}
	if (nsx_propagation_flags(opt, &pflags)) {
		if (o->npropagation == (int)N(o->propagation))
			return nsx_fail(e, "mount", NULL, 0, NULL, "too many propagation options");
		o->propagation[o->npropagation++] = pflags;
		return 0;
	}
	for (size_t i = 0; i < N(rec_opts); i++)
		if (!strcmp(opt, rec_opts[i].name)) {
			if (rec_opts[i].clear) {
				o->rec.attr_clr |= rec_opts[i].attr;
				o->rec.attr_set &= ~rec_opts[i].attr;
			} else {
				o->rec.attr_set |= rec_opts[i].attr;
				o->rec.attr_clr &= ~rec_opts[i].attr;
			}
			return 0;
		}
	for (size_t i = 0; i < N(rec_atime_opts); i++)
		if (!strcmp(opt, rec_atime_opts[i].name)) {
			o->rec.attr_clr |= MOUNT_ATTR__ATIME;
			o->rec.attr_set = (o->rec.attr_set & ~MOUNT_ATTR__ATIME) | rec_atime_opts[i].attr;
			return 0;
		}
	if (!strcmp(opt, "tmpcopyup"))
		return 0; /* runc-specific copy-up of the image dir; nothing to copy from */
	if (!strcmp(opt, "idmap") || !strcmp(opt, "ridmap"))
		return nsx_fail(e, "mount", NULL, EOPNOTSUPP, NULL, "mount option %s", opt);
	return add_data(o, opt, e);
}

static int parse_opts(json_object *options, struct mount_opts *o, struct nsx_error *e)
{
	size_t n = options ? json_object_array_length(options) : 0;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(options, i);
		if (!json_object_is_type(s, json_type_string))
			return nsx_fail(e, "mount", NULL, 0, NULL, "invalid init message: mount options must be strings");
		if (parse_one(o, json_object_get_string(s), e))
			return -1;
	}
	return 0;
}

bool nsx_mount_is_bind(json_object *m)
{
	json_object *options = nsx_json_get(m, "options"), *t = nsx_json_get(m, "type");
	size_t n = options && json_object_is_type(options, json_type_array) ? json_object_array_length(options) : 0;

	if (t && json_object_is_type(t, json_type_string) && !strcmp(json_object_get_string(t), "bind"))
		return true;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(options, i));
		if (s && (!strcmp(s, "bind") || !strcmp(s, "rbind")))
			return true;
	}
	return false;
}

/* Where a mount may land: still inside the rootfs (belt and braces on top of
 * RESOLVE_IN_ROOT), and not on procfs files that would let the container reach
 * kernel or host state (as runc: only /proc itself, by a procfs, and the files
 * lxcfs emulates). source_is_proc: the mount brings a procfs. */
static int check_target(int fd, const char *rootfs, const char *dest, bool source_is_proc, struct nsx_error *e)
{
	static const char *const proc_ok[] = { "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
					       "/proc/swaps", "/proc/uptime", "/proc/loadavg", "/proc/slabinfo",
					       "/proc/net/dev", "/proc/sys/kernel/ns_last_pid", NULL };
	char link[32], real[PATH_MAX];
	const char *rel;
	ssize_t n = readlink(nsx_fdpath(fd, link), real, sizeof(real) - 1);
	size_t rl = strcmp(rootfs, "/") ? strlen(rootfs) : 0;

	if (n < 0)
		return nsx_fail(e, "mount", "readlink", errno, dest, "check mount destination %s", dest);
	real[n] = '\0';
	if (strncmp(real, rootfs, rl) || (real[rl] && real[rl] != '/'))
		return nsx_fail(e, "mount", NULL, EXDEV, dest, "mount destination %s resolves outside the rootfs (%s)", dest, real);
	rel = real[rl] ? real + rl : "/";
	if (strncmp(rel, "/proc", 5) || (rel[5] && rel[5] != '/'))
		return 0;
	if (!rel[5]) {
		if (source_is_proc)
			return 0;
		return nsx_fail(e, "mount", NULL, 0, dest, "%s cannot be mounted because it is not of type proc", dest);
	}
	for (size_t i = 0; proc_ok[i]; i++)
		if (!strcmp(rel, proc_ok[i]))
			return 0;
	return nsx_fail(e, "mount", NULL, 0, dest, "%s cannot be mounted because it is inside /proc", dest);
}

static bool is_procfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

int nsx_remount_bind(int fd, unsigned long flags, const char *shown, const char *stage, struct nsx_error *e)
{
	char p[32];
	unsigned long want = MS_REMOUNT | MS_BIND | flags;
	struct statvfs sv;

	if (mount(NULL, nsx_fdpath(fd, p), NULL, want, NULL) == 0)
		return 0;
	if (errno != EPERM || fstatvfs(fd, &sv) < 0)
		return nsx_fail(e, stage, "mount", errno, shown, "remount %s", shown);
	/* In a user namespace the flags inherited from the source mount are locked:
	 * keep them and retry. */
	if (sv.f_flag & ST_NOSUID)
		want |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		want |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		want |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		want |= MS_RDONLY;
	if (sv.f_flag & (ST_NOATIME | ST_NODIRATIME | ST_RELATIME)) {
		want &= ~(MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME);
		want |= (sv.f_flag & ST_NOATIME ? MS_NOATIME : 0) | (sv.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0) |
			(sv.f_flag & ST_RELATIME ? MS_RELATIME : 0);
	}
	if (mount(NULL, p, NULL, want, NULL) < 0)
		return nsx_fail(e, stage, "mount", errno, shown, "remount %s", shown);
	return 0;
}

/* The destination again, now naming what was just mounted on it. */
static int reopen(const struct nsx_mount_target *t, const char *dest, struct nsx_error *e)
{
	int fd = nsx_root_open(t->rootfd, dest, O_PATH);

	if (fd < 0)
		return nsx_fail(e, "mount", "openat2", errno, dest, "reopen mount destination %s", dest);
	return fd;
}

int nsx_mount_source_tree(json_object *m, struct nsx_error *e)
{
	const char *source = NULL, *dest = NULL;
	json_object *options = NULL;
	struct mount_opts o;
	struct mount_attr slave = { .propagation = MS_SLAVE };
	int fd;

	if (!nsx_mount_is_bind(m))
		return NSX_NOT_BIND;
	if (nsx_json_string(m, "source", &source, e) || nsx_json_string(m, "destination", &dest, e) ||
	    nsx_json_array(m, "options", &options, e) || parse_opts(options, &o, e))
		return -1;
	if (!source)
		return nsx_fail(e, "mount", NULL, EINVAL, dest, "bind mount to %s has no source", dest);
	/* a host path: symlinks in it are followed on the host, as runc does */
	fd = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((o.flags & MS_REC) ? AT_RECURSIVE : 0));
	if (fd < 0)
		return nsx_fail(e, "mount", "open_tree", errno, dest, "error mounting \"%s\" to rootfs at \"%s\": open source", source, dest);
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof(slave)) < 0) {
		int err = errno;
		close(fd);
		return nsx_fail(e, "mount", "mount_setattr", err, dest, "make the copy of \"%s\" rslave", source);
	}
	return fd;
}

static int mount_bind(const struct nsx_mount_target *t, const char *source, const char *dest,
		      const struct mount_opts *o, int tree, struct nsx_error *e)
{
	char sp[32], tp[32];
	struct stat st;
	int src, tgt, rc = -1;

	if (!source)
		return nsx_fail(e, "mount", NULL, EINVAL, dest, "bind mount to %s has no source", dest);
	/* the source is a host path: symlinks in it are followed on the host, as runc does */
	src = tree >= 0 ? tree : open(source, O_PATH | O_CLOEXEC);
	if (src < 0)
		return nsx_fail(e, "mount", "open", errno, dest, "error mounting \"%s\" to rootfs at \"%s\": open source", source, dest);
	if (fstat(src, &st) < 0) {
		nsx_fail(e, "mount", "fstat", errno, dest, "stat mount source %s", source);
		goto out;
	}
	tgt = nsx_root_ensure(t->rootfd, dest, S_ISDIR(st.st_mode), "mount", e);
	if (tgt < 0)
		goto out;
	if (check_target(tgt, t->rootfs, dest, is_procfs(src), e) == 0) {
		if (tree >= 0 ? syscall(SYS_move_mount, tree, "", tgt, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
			      : mount(nsx_fdpath(src, sp), nsx_fdpath(tgt, tp), NULL, MS_BIND | (o->flags & MS_REC), NULL) < 0)
			nsx_fail(e, "mount", tree >= 0 ? "move_mount" : "mount", errno, dest, "error mounting \"%s\" to rootfs at \"%s\"", source, dest);
		else
			rc = 0;
	}
	close(tgt);
	if (rc == 0 && (o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT))) {
		/* a bind ignores every other flag: they take a remount */
		tgt = reopen(t, dest, e);
		rc = tgt < 0 ? -1 : nsx_remount_bind(tgt, o->flags & ~(MS_BIND | MS_REMOUNT | MS_REC), dest, "mount", e);
		if (tgt >= 0)
			close(tgt);
	}
out:
	if (src != tree) /* the caller's */
		close(src);
	return rc;
}

/* dest opened inside the root without following any symlink (-1 and errno when not) */
static int open_no_symlinks(int rootfd, const char *dest)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };

	return (int)syscall(SYS_openat2, rootfd, dest, &how, sizeof(how));
}

static int mount_fs(const struct nsx_mount_target *t, const char *type, const char *source, const char *dest,
		    const struct mount_opts *o, struct nsx_error *e)
{
	char tp[32];
	int tgt, rc = 0, strict, err = 0;
	/* a kernel filesystem must land where it is named, never via a symlink: checked
	 * before the destination is made too (making it would follow a dangling one) */
	bool kernel_fs = !strcmp(type, "proc") || !strcmp(type, "sysfs");

	if (kernel_fs && (strict = open_no_symlinks(t->rootfd, dest)) >= 0)
		close(strict);
	else if (kernel_fs && (err = errno) == ELOOP)
		goto via_symlink;
	tgt = nsx_root_ensure(t->rootfd, dest, 1, "mount", e);
	if (tgt < 0)
		return -1;
	if (kernel_fs) {
		strict = open_no_symlinks(t->rootfd, dest);
		err = errno;
		close(tgt);
		if (strict < 0)
			goto via_symlink;
		tgt = strict;
	}
	rc = check_target(tgt, t->rootfs, dest, !strcmp(type, "proc"), e);
	if (!rc && mount(source ? source : type, nsx_fdpath(tgt, tp), type, o->flags, o->data[0] ? o->data : NULL) < 0)
		rc = nsx_fail(e, "mount", "mount", errno, dest, "error mounting \"%s\" to rootfs at \"%s\"", source ? source : type, dest);
	close(tgt);
	return rc;
via_symlink:
	return nsx_fail(e, "mount", "openat2", err, dest, "%s must be mounted on ordinary directory: %s is reached through a symlink", type, dest);
}

int nsx_mount_entry(const struct nsx_mount_target *t, json_object *m, int tree, struct nsx_error *e)
{
	const char *type = NULL, *source = NULL, *dest = NULL;
	json_object *options = NULL;
	struct mount_opts o;
	char p[32];
	int fd, rc;

	if (nsx_json_string(m, "type", &type, e) || nsx_json_string(m, "source", &source, e) ||
	    nsx_json_string(m, "destination", &dest, e) || nsx_json_array(m, "options", &options, e))
		return -1;
	if (!dest || !*dest)
		return nsx_fail(e, "mount", NULL, 0, NULL, "invalid mount: destination is required");
	if (parse_opts(options, &o, e)) {
		snprintf(e->path, sizeof(e->path), "%s", dest);
		return -1;
	}
	/* a read-only /dev is filled with devices and mounts first (runc does the same) */
	if ((o.flags & MS_RDONLY) && !nsx_mount_is_bind(m) && (!strcmp(dest, "/dev") || !strcmp(dest, "/dev/"))) {
		o.flags &= ~MS_RDONLY;
		*t->dev_ro_flags = (o.flags & ~(MS_REMOUNT | MS_BIND | MS_REC)) | MS_RDONLY;
	}
	if (nsx_mount_is_bind(m))
		rc = mount_bind(t, source, dest, &o, tree, e);
	else if (!type || !*type)
		return nsx_fail(e, "mount", NULL, 0, dest, "invalid mount to %s: type is required", dest);
	else
		rc = mount_fs(t, type, source, dest, &o, e);
	if (rc || (!o.npropagation && !o.rec.attr_set && !o.rec.attr_clr))
		return rc;
	fd = reopen(t, dest, e);
	if (fd < 0)
		return -1;
	for (int i = 0; i < o.npropagation && !rc; i++)
		if (mount(NULL, nsx_fdpath(fd, p), NULL, o.propagation[i], NULL) < 0)
			rc = nsx_fail(e, "mount", "mount", errno, dest, "change propagation of %s", dest);
	if (!rc && (o.rec.attr_set || o.rec.attr_clr) &&
	    mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &o.rec, sizeof(o.rec)) < 0)
		rc = nsx_fail(e, "mount", "mount_setattr", errno, dest, "set recursive attributes of %s", dest);
	close(fd);
	return rc;
}
