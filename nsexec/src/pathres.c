#include "pathres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int nsx_root_open(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	/* a leading "/" is fine: in-root resolution starts at rootfd either way */
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

const char *nsx_fdpath(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

int nsx_root_mkdir_all(int rootfd, const char *path, mode_t mode, const char *stage, struct nsx_error *e)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(prefix))
		return nsx_fail(e, stage, NULL, ENAMETOOLONG, path, "resolve %s", path);
	fd = nsx_root_open(rootfd, path, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : nsx_fail(e, stage, "openat2", errno, path, "resolve %s in the rootfs", path);
	/* Walk the prefixes from the root; each is resolved afresh from rootfd, so a
	 * symlink met on the way is followed inside the rootfs only. */
	fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return nsx_fail(e, stage, "fcntl", errno, path, "resolve %s", path);
	for (size_t i = 0; i < len;) {
		size_t start, end;
		int next;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		end = i;
		if (start == end)
			break;
		memcpy(prefix, path, end);
		prefix[end] = '\0';
		next = nsx_root_open(rootfd, prefix, O_PATH | O_DIRECTORY);
		if (next < 0 && errno == ENOENT) {
			char name[NAME_MAX + 1];

			if (end - start > NAME_MAX) {
				close(fd);
				return nsx_fail(e, stage, "mkdirat", ENAMETOOLONG, path, "mkdir %s", prefix);
			}
			memcpy(name, path + start, end - start);
			name[end - start] = '\0';
			/* ".." at the top is clamped by openat2; mkdirat refuses it anyway */
			if (mkdirat(fd, name, mode) < 0 && errno != EEXIST) {
				int err = errno;
				close(fd);
				return nsx_fail(e, stage, "mkdirat", err, path, "mkdir %s in the rootfs", prefix);
			}
			next = nsx_root_open(rootfd, prefix, O_PATH | O_DIRECTORY);
		}
		if (next < 0) {
			int err = errno;
			close(fd);
			return nsx_fail(e, stage, "openat2", err, path, "resolve %s in the rootfs", prefix);
		}
		close(fd);
		fd = next;
	}
	return fd;
}

int nsx_root_parent(int rootfd, const char *path, char *base, size_t basesz, const char *stage,
		    struct nsx_error *e)
{
	char parent[PATH_MAX];
	size_t len = strlen(path);
	char *slash;
	const char *last;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(parent))
		return nsx_fail(e, stage, NULL, ENAMETOOLONG, path, "resolve %s", path);
	memcpy(parent, path, len);
	parent[len] = '\0';
	slash = strrchr(parent, '/');
	last = slash ? slash + 1 : parent;
	if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
		return nsx_fail(e, stage, NULL, EINVAL, path, "%s has no last component", path);
	if (strlen(last) >= basesz)
		return nsx_fail(e, stage, NULL, ENAMETOOLONG, path, "resolve %s", path);
	strcpy(base, last);
	/* "/a" and "a" both have the root as parent */
	if (slash && slash != parent)
		*slash = '\0';
	else
		strcpy(parent, "/");
	return nsx_root_mkdir_all(rootfd, parent, 0755, stage, e);
}

int nsx_root_ensure(int rootfd, const char *path, int dir, const char *stage, struct nsx_error *e)
{
	char base[NAME_MAX + 1];
	int fd, parent, created;

	if (dir)
		return nsx_root_mkdir_all(rootfd, path, 0755, stage, e);
	fd = nsx_root_open(rootfd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : nsx_fail(e, stage, "openat2", errno, path, "resolve %s in the rootfs", path);
	parent = nsx_root_parent(rootfd, path, base, sizeof(base), stage, e);
	if (parent < 0)
		return -1;
	/* O_NOFOLLOW|O_EXCL: never create through a (dangling) symlink */
	created = openat(parent, base, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
	close(parent);
	if (created < 0 && errno != EEXIST)
		return nsx_fail(e, stage, "openat", errno, path, "create %s in the rootfs", path);
	if (created >= 0)
		close(created);
	fd = nsx_root_open(rootfd, path, O_PATH);
	if (fd < 0)
		return nsx_fail(e, stage, "openat2", errno, path, "resolve %s in the rootfs", path);
	return fd;
}
