#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "jsonutil.h"
#include "pathres.h"

struct device {
	const char *path;
	mode_t type;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

static const struct device default_devices[] = {
	{ "/dev/null", S_IFCHR, 1, 3, 0666, 0, 0 },    { "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0 },
	{ "/dev/full", S_IFCHR, 1, 7, 0666, 0, 0 },    { "/dev/random", S_IFCHR, 1, 8, 0666, 0, 0 },
	{ "/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0 }, { "/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0 },
};

/* Where mknod is refused, the host's node of the same path is bound instead. */
static int bind_host_node(int rootfd, const struct device *d, struct nsx_error *e)
{
	char sp[32], tp[32];
	struct stat st;
	int src, tgt, rc = 0;

	src = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return nsx_fail(e, "devices", "open", errno, d->path, "bind host device %s", d->path);
	if (fstat(src, &st) < 0 || (st.st_mode & S_IFMT) != d->type || st.st_rdev != makedev(d->major, d->minor)) {
		close(src);
		return nsx_fail(e, "devices", "mknod", EPERM, d->path,
				"create device %s (the host node to bind instead does not match)", d->path);
	}
	tgt = nsx_root_ensure(rootfd, d->path, 0, "devices", e);
	if (tgt < 0) {
		close(src);
		return -1;
	}
	if (mount(nsx_fdpath(src, sp), nsx_fdpath(tgt, tp), NULL, MS_BIND, NULL) < 0)
		rc = nsx_fail(e, "devices", "mount", errno, d->path, "bind host device %s", d->path);
	close(tgt);
	close(src);
	return rc;
}

static int create_device(int rootfd, const struct device *d, struct nsx_error *e)
{
	char base[NAME_MAX + 1];
	int dir, rc = 0;

	dir = nsx_root_parent(rootfd, d->path, base, sizeof(base), "devices", e);
	if (dir < 0)
		return -1;
	if (mknodat(dir, base, d->type | (d->mode & 07777), makedev(d->major, d->minor)) < 0) {
		if (errno == EEXIST) {
			close(dir);
			return 0; /* as runc: an existing node is kept */
		}
		if (errno == EPERM && d->type != S_IFIFO) {
			close(dir);
			return bind_host_node(rootfd, d, e);
		}
		rc = nsx_fail(e, "devices", "mknod", errno, d->path, "create device %s", d->path);
	} else if (fchownat(dir, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = nsx_fail(e, "devices", "fchownat", errno, d->path, "chown device %s", d->path);
	} else if (fchmodat(dir, base, d->mode & 07777, 0) < 0) {
		rc = nsx_fail(e, "devices", "fchmodat", errno, d->path, "chmod device %s", d->path);
	}
	close(dir);
	return rc;
}

static int parse_device(json_object *o, struct device *d, struct nsx_error *e)
{
	const char *type = NULL;
	int64_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;

	memset(d, 0, sizeof(*d));
	if (nsx_json_string(o, "path", &d->path, e) || nsx_json_string(o, "type", &type, e) ||
	    nsx_json_int64(o, "major", &major, e) || nsx_json_int64(o, "minor", &minor, e) ||
	    nsx_json_int64(o, "fileMode", &mode, e) || nsx_json_int64(o, "uid", &uid, e) || nsx_json_int64(o, "gid", &gid, e))
		return -1;
	if (!d->path || d->path[0] != '/')
		return nsx_fail(e, "devices", NULL, 0, d->path, "invalid device: path must be absolute");
	if (!type || strlen(type) != 1 || !strchr("cubp", type[0]))
		return nsx_fail(e, "devices", NULL, 0, d->path, "invalid device %s: type must be c, u, b or p", d->path);
	d->type = type[0] == 'b' ? S_IFBLK : type[0] == 'p' ? S_IFIFO : S_IFCHR;
	d->major = (unsigned)major;
	d->minor = (unsigned)minor;
	d->mode = (mode_t)mode;
	d->uid = (uid_t)uid;
	d->gid = (gid_t)gid;
	return 0;
}

static int create_links(int rootfd, struct nsx_error *e)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	int dev = nsx_root_mkdir_all(rootfd, "/dev", 0755, "devices", e);

	if (dev < 0)
		return -1;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST) {
			int err = errno;
			close(dev);
			return nsx_fail(e, "devices", "symlinkat", err, "/dev", "create /dev/%s", links[i][1]);
		}
	/* ptmx must be the container's own devpts instance */
	if ((unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT) || symlinkat("pts/ptmx", dev, "ptmx") < 0) {
		int err = errno;
		close(dev);
		return nsx_fail(e, "devices", "symlinkat", err, "/dev/ptmx", "create /dev/ptmx");
	}
	close(dev);
	return 0;
}

int nsx_devices_create(int rootfd, json_object *devices, struct nsx_error *e)
{
	size_t n = devices ? json_object_array_length(devices) : 0;

	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
		if (create_device(rootfd, &default_devices[i], e))
			return -1;
	for (size_t i = 0; i < n; i++) {
		struct device d;
		if (parse_device(json_object_array_get_idx(devices, i), &d, e) || create_device(rootfd, &d, e))
			return -1;
	}
	return create_links(rootfd, e);
}
