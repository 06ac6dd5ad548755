/* A "cgroup" mount: what the container sees at /sys/fs/cgroup. On a v1 or hybrid
 * host that is a tmpfs holding a bind of the container's own cgroup of every
 * hierarchy (v1 hierarchies cannot be mounted from a user namespace, and a bind
 * shows exactly the container's subtree); on a pure v2 host it is cgroup2. */
#ifndef NSX_CGROUPMOUNT_H
#define NSX_CGROUPMOUNT_H

#include <stdbool.h>
#include <json-c/json.h>
#include "error.h"
#include "mounts.h"

/* self_cgroup: the text of /proc/self/cgroup read before the cgroup namespace was
 * made (host paths); in_cgroupns: a new cgroup namespace exists. */
int nsx_cgroup_mount(const struct nsx_mount_target *t, json_object *m, const char *self_cgroup, bool in_cgroupns,
		     struct nsx_error *e);

#endif
