#include "cgroupjoin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include "jsonutil.h"

static int open_in(const char *dir, const char *file, int flags, struct nsx_error *e)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s%s%s", dir, file ? "/" : "", file ? file : "") >= (int)sizeof(path))
		return nsx_fail(e, "cgroup", NULL, ENAMETOOLONG, dir, "open cgroup %s", dir);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return nsx_fail(e, "cgroup", "open", errno, path, "open %s", path);
	return fd;
}

int nsx_cgroup_join_open(json_object *cgroups, struct nsx_cgroup_join *j, struct nsx_error *e)
{
	json_object *v1 = NULL;
	size_t n;

	j->given = cgroups != NULL;
	j->n_v1 = 0;
	j->v2 = NULL;
	j->v2_dir = j->v2_procs = -1;
	if (!cgroups)
		return 0;
	if (nsx_json_array(cgroups, "v1", &v1, e) || nsx_json_string(cgroups, "unified", &j->v2, e))
		return -1;
	n = v1 ? json_object_array_length(v1) : 0;
	if (n > NSX_CGROUP_V1_MAX)
		return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: more than %d v1 cgroups", NSX_CGROUP_V1_MAX);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(v1, i);

		if (!json_object_is_type(d, json_type_string))
			return nsx_fail(e, "protocol", NULL, 0, NULL, "invalid init message: cgroups.v1[%zu] is not a string", i);
		j->v1_dir[j->n_v1] = json_object_get_string(d);
		if ((j->v1_tasks[j->n_v1] = open_in(j->v1_dir[j->n_v1], "tasks", O_WRONLY, e)) < 0)
			return -1;
		j->n_v1++;
	}
	if (j->v2 && ((j->v2_dir = open_in(j->v2, NULL, O_PATH | O_DIRECTORY, e)) < 0 ||
		      (j->v2_procs = open_in(j->v2, "cgroup.procs", O_WRONLY, e)) < 0))
		return -1;
	return 0;
}

void nsx_cgroup_join_close(struct nsx_cgroup_join *j)
{
	for (int i = 0; i < j->n_v1; i++)
		close(j->v1_tasks[i]);
	j->n_v1 = 0;
	if (j->v2_dir >= 0)
		close(j->v2_dir);
	if (j->v2_procs >= 0)
		close(j->v2_procs);
	j->v2_dir = j->v2_procs = -1;
}

/* "0" is the writer itself: through `tasks`, only the calling thread (the whole
 * process here: the child is single-threaded). */
static int join(int fd, const char *dir, const char *file, struct nsx_error *e)
{
	char path[PATH_MAX];
	ssize_t n;

	while ((n = write(fd, "0", 1)) < 0 && errno == EINTR)
		;
	if (n == 1)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return nsx_fail(e, "cgroup", "write", n < 0 ? errno : EIO, path, "join cgroup %s", dir);
}

int nsx_cgroup_join_self(struct nsx_cgroup_join *j, bool in_v2, struct nsx_error *e)
{
	int rc = 0;

	for (int i = 0; i < j->n_v1 && !rc; i++)
		rc = join(j->v1_tasks[i], j->v1_dir[i], "tasks", e);
	if (!rc && !in_v2 && j->v2_procs >= 0)
		rc = join(j->v2_procs, j->v2, "cgroup.procs", e);
	nsx_cgroup_join_close(j);
	return rc;
}
