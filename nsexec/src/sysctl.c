#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

static int write_one(int sysfd, const char *key, const char *value, struct nsx_error *e)
{
	char rel[PATH_MAX], shown[PATH_MAX + 16];
	struct open_how how = { .flags = O_WRONLY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	size_t len = strlen(value);
	int fd;

	if (strlen(key) >= sizeof(rel) || !*key || strstr(key, ".."))
		return nsx_fail(e, "sysctl", NULL, 0, key, "invalid sysctl key \"%s\"", key);
	snprintf(rel, sizeof(rel), "%s", key);
	for (char *c = rel; *c; c++)
		if (*c == '.')
			*c = '/';
	snprintf(shown, sizeof(shown), "/proc/sys/%s", rel);
	fd = (int)syscall(SYS_openat2, sysfd, rel, &how, sizeof(how));
	if (fd < 0)
		return nsx_fail(e, "sysctl", "openat2", errno, shown, "set sysctl %s", key);
	if (write(fd, value, len) != (ssize_t)len) {
		int err = errno;
		close(fd);
		return nsx_fail(e, "sysctl", "write", err, shown, "set sysctl %s to \"%s\"", key, value);
	}
	close(fd);
	return 0;
}

int nsx_set_sysctls(json_object *sysctl, struct nsx_error *e)
{
	struct statfs sf;
	int sysfd, rc = 0;

	if (!sysctl || !json_object_object_length(sysctl))
		return 0;
	/* only the real procfs: anything else at /proc/sys is the image's doing */
	sysfd = open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sysfd < 0)
		return nsx_fail(e, "sysctl", "open", errno, "/proc/sys", "open /proc/sys");
	if (fstatfs(sysfd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		close(sysfd);
		return nsx_fail(e, "sysctl", NULL, 0, "/proc/sys", "/proc/sys is not procfs");
	}
	json_object_object_foreach(sysctl, key, val)
	{
		if (!json_object_is_type(val, json_type_string)) {
			rc = nsx_fail(e, "sysctl", NULL, 0, key, "invalid init message: sysctl %s must be a string", key);
			break;
		}
		if ((rc = write_one(sysfd, key, json_object_get_string(val), e)))
			break;
	}
	close(sysfd);
	return rc;
}

static bool key_in(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(key, *list))
			return true;
	return false;
}

int nsx_sysctl_check(json_object *sysctl, const struct nsx_ns_plan *ns, struct nsx_error *e)
{
	static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
						"kernel.shmall", "kernel.shmmax", "kernel.shmmni",
						"kernel.shm_rmid_forced", NULL };
	static const char *const uts_keys[] = { "kernel.hostname", "kernel.domainname", NULL };

	if (!sysctl)
		return 0;
	json_object_object_foreach(sysctl, key, val)
	{
		bool ok;

		(void)val;
		if (key_in(key, ipc_keys) || !strncmp(key, "fs.mqueue.", 10))
			ok = ns->listed[NSX_NS_IPC];
		else if (!strncmp(key, "net.", 4))
			ok = ns->listed[NSX_NS_NET];
		else if (key_in(key, uts_keys))
			ok = ns->listed[NSX_NS_UTS];
		else
			ok = false;
		if (!ok)
			return nsx_fail(e, "sysctl", NULL, 0, NULL, "sysctl \"%s\" is not in a separate kernel namespace", key);
	}
	return 0;
}
