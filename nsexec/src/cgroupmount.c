#include "cgroupmount.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "jsonutil.h"
#include "pathres.h"

#define HOST_CGROUP "/sys/fs/cgroup"

/* Mounts a synthetic entry {type, source, destination, options + extra...}. */
static int mount_synthetic(const struct nsx_mount_target *t, const char *type, const char *source, const char *dest,
			   json_object *base_options, const char *const *extra, struct nsx_error *e)
{
	json_object *m = json_object_new_object(), *opts = json_object_new_array();
	size_t n = base_options ? json_object_array_length(base_options) : 0;
	int rc;

	for (size_t i = 0; extra && extra[i]; i++)
		json_object_array_add(opts, json_object_new_string(extra[i]));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(opts, json_object_get(json_object_array_get_idx(base_options, i)));
	json_object_object_add(m, "type", json_object_new_string(type));
	json_object_object_add(m, "source", json_object_new_string(source));
	json_object_object_add(m, "destination", json_object_new_string(dest));
	json_object_object_add(m, "options", opts);
	rc = nsx_mount_entry(t, m, -1, e);
	json_object_put(m);
	return rc;
}

static bool has_option(json_object *options, const char *name)
{
	size_t n = options ? json_object_array_length(options) : 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(options, i));
		if (s && !strcmp(s, name))
			return true;
	}
	return false;
}

/* The host directory of one /proc/self/cgroup line's hierarchy, or false to skip. */
static bool hierarchy_dir(const char *controllers, char *dir, size_t dirsz)
{
	char probe[PATH_MAX];
	struct statfs sf;

	if (!*controllers)
		snprintf(dir, dirsz, "unified");
	else if (!strncmp(controllers, "name=", 5))
		snprintf(dir, dirsz, "%s", controllers + 5);
	else
		snprintf(dir, dirsz, "%s", controllers);
	snprintf(probe, sizeof(probe), HOST_CGROUP "/%s", dir);
	return statfs(probe, &sf) == 0 && (sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC);
}

static int link_controllers(const struct nsx_mount_target *t, const char *dest, const char *dir, struct nsx_error *e)
{
	char names[256], *save = NULL;
	int fd;

	if (!strchr(dir, ','))
		return 0;
	fd = nsx_root_open(t->rootfd, dest, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return nsx_fail(e, "mount", "openat2", errno, dest, "open %s", dest);
	snprintf(names, sizeof(names), "%s", dir);
	for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save))
		if (symlinkat(dir, fd, n) < 0 && errno != EEXIST) {
			int err = errno;
			close(fd);
			return nsx_fail(e, "mount", "symlinkat", err, dest, "link %s/%s", dest, n);
		}
	close(fd);
	return 0;
}

static int mount_v1_tree(const struct nsx_mount_target *t, const char *dest, json_object *options, const char *self_cgroup,
			 struct nsx_error *e)
{
	static const char *const tmpfs_opts[] = { "nosuid", "nodev", "noexec", "mode=755", NULL };
	static const char *const bind_opts[] = { "rbind", NULL };
	static const char *const seal_opts[] = { "remount", "ro", "nosuid", "nodev", "noexec", NULL };
	char text[8192], *save = NULL;

	if (mount_synthetic(t, "tmpfs", "tmpfs", dest, NULL, tmpfs_opts, e))
		return -1;
	snprintf(text, sizeof(text), "%s", self_cgroup ? self_cgroup : "");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *controllers = strchr(line, ':'), *path, dir[256], source[PATH_MAX], target[PATH_MAX];
		struct stat st;

		if (!controllers || !(path = strchr(controllers + 1, ':')))
			continue;
		*path++ = '\0';
		controllers++;
		if (!hierarchy_dir(controllers, dir, sizeof(dir)))
			continue;
		snprintf(source, sizeof(source), HOST_CGROUP "/%s%s", dir, path);
		if (stat(source, &st) < 0)
			continue; /* not placed in that hierarchy */
		snprintf(target, sizeof(target), "%s/%s", dest, dir);
		if (mount_synthetic(t, "bind", source, target, options, bind_opts, e) || link_controllers(t, dest, dir, e))
			return -1;
	}
	if (has_option(options, "ro"))
		return mount_synthetic(t, "tmpfs", "tmpfs", dest, NULL, seal_opts, e);
	return 0;
}

int nsx_cgroup_mount(const struct nsx_mount_target *t, json_object *m, const char *self_cgroup, bool in_cgroupns,
		     struct nsx_error *e)
{
	const char *dest = NULL;
	json_object *options = NULL;
	struct statfs sf;

	if (nsx_json_string(m, "destination", &dest, e) || nsx_json_array(m, "options", &options, e))
		return -1;
	if (!dest)
		return nsx_fail(e, "mount", NULL, 0, NULL, "invalid mount: destination is required");
	if (statfs(HOST_CGROUP, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		char source[PATH_MAX];
		const char *p = self_cgroup && !strncmp(self_cgroup, "0::", 3) ? self_cgroup + 3 : "/\n";

		if (in_cgroupns)
			return mount_synthetic(t, "cgroup2", "cgroup", dest, options, NULL, e);
		snprintf(source, sizeof(source), HOST_CGROUP "%.*s", (int)strcspn(p, "\n"), p);
		{
			static const char *const bind_opts[] = { "rbind", NULL };
			return mount_synthetic(t, "bind", source, dest, options, bind_opts, e);
		}
	}
	return mount_v1_tree(t, dest, options, self_cgroup, e);
}
