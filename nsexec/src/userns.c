#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "jsonutil.h"

static int write_file_at(int dirfd, const char *name, const char *text, size_t len, const char *shown,
			 struct nsx_error *e)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return nsx_fail(e, "userns", "open", errno, shown, "open %s", shown);
	n = write(fd, text, len);
	if (n != (ssize_t)len) {
		int err = n < 0 ? errno : EIO;
		close(fd);
		return nsx_fail(e, "userns", "write", err, shown, "write %s", shown);
	}
	close(fd);
	return 0;
}

static int write_map(int procfd, pid_t child, const char *file, json_object *maps, struct nsx_error *e)
{
	char text[4096], shown[64];
	size_t len = 0, n = maps ? json_object_array_length(maps) : 0;

	snprintf(shown, sizeof(shown), "/proc/%d/%s", (int)child, file);
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(maps, i);
		int64_t cid = -1, hid = -1, size = -1;
		int w;

		if (nsx_json_int64(m, "containerID", &cid, e) || nsx_json_int64(m, "hostID", &hid, e) ||
		    nsx_json_int64(m, "size", &size, e))
			return -1;
		if (cid < 0 || hid < 0 || size < 1 || cid > UINT32_MAX || hid > UINT32_MAX || size > UINT32_MAX)
			return nsx_fail(e, "userns", NULL, 0, shown, "invalid id mapping #%zu for %s", i, file);
		w = snprintf(text + len, sizeof(text) - len, "%lld %lld %lld\n", (long long)cid, (long long)hid,
			     (long long)size);
		if (w < 0 || (size_t)w >= sizeof(text) - len)
			return nsx_fail(e, "userns", NULL, 0, shown, "too many id mappings for %s", file);
		len += w;
	}
	return write_file_at(procfd, file, text, len, shown, e);
}

int nsx_userns_write_maps(pid_t child, json_object *lnx, struct nsx_error *e)
{
	char dir[64];
	int procfd, rc;

	snprintf(dir, sizeof(dir), "/proc/%d", (int)child);
	procfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return nsx_fail(e, "userns", "open", errno, dir, "open %s", dir);
	rc = write_map(procfd, child, "uid_map", nsx_json_get(lnx, "uidMappings"), e);
	/* Without CAP_SETGID here the kernel only accepts a gid_map after setgroups
	 * has been denied. */
	if (!rc && geteuid() != 0) {
		char shown[96];
		snprintf(shown, sizeof(shown), "%s/setgroups", dir);
		rc = write_file_at(procfd, "setgroups", "deny", 4, shown, e);
	}
	if (!rc)
		rc = write_map(procfd, child, "gid_map", nsx_json_get(lnx, "gidMappings"), e);
	close(procfd);
	return rc;
}

int nsx_userns_host_root(json_object *maps, const char *what, int64_t *out, struct nsx_error *e)
{
	size_t n = maps ? json_object_array_length(maps) : 0;

	*out = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(maps, i);
		int64_t cid, hid, size;

		if (nsx_json_int64(m, "containerID", &cid, e) || nsx_json_int64(m, "hostID", &hid, e) ||
		    nsx_json_int64(m, "size", &size, e))
			return -1;
		if (cid <= 0 && 0 < cid + size) {
			*out = hid - cid;
			return 0;
		}
	}
	if (n)
		return nsx_fail(e, "userns", NULL, 0, NULL, "user namespaces enabled, but no root %s mapping found", what);
	return 0;
}

int nsx_userns_become_root(struct nsx_error *e)
{
	if (setresgid(0, 0, 0) < 0)
		return nsx_fail(e, "userns", "setresgid", errno, NULL, "become root in the user namespace (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		return nsx_fail(e, "userns", "setresuid", errno, NULL, "become root in the user namespace (is uid 0 mapped?)");
	return 0;
}

bool nsx_userns_setgroups_denied(void)
{
	char buf[16] = "";
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && !strncmp(buf, "deny", 4);
}
