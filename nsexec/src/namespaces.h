/* linux.namespaces: which namespaces are new, which are joined, and the calls that
 * enter them. */
#ifndef NSX_NAMESPACES_H
#define NSX_NAMESPACES_H

#include <stdbool.h>
#include <json-c/json.h>
#include "error.h"

enum nsx_ns_kind { NSX_NS_USER, NSX_NS_IPC, NSX_NS_UTS, NSX_NS_NET, NSX_NS_PID, NSX_NS_CGROUP, NSX_NS_TIME,
		   NSX_NS_MNT, NSX_NS_COUNT };

/* Indexed by enum nsx_ns_kind, which is also the order namespaces are joined in:
 * user first (it grants the rights for the rest), mount last. */
struct nsx_ns_plan {
	bool listed[NSX_NS_COUNT];   /* present in linux.namespaces */
	const char *path[NSX_NS_COUNT]; /* "path" to join, or NULL for a new one */
};

int nsx_ns_plan_load(json_object *namespaces, struct nsx_ns_plan *plan, struct nsx_error *e);

/* create: joins every namespace that has a path (opening all paths first, since
 * joining the mount namespace changes what the later paths name). */
int nsx_ns_join_paths(const struct nsx_ns_plan *plan, struct nsx_error *e);

/* create: the clone(2) flags for the new namespaces, without cgroup (unshared by the
 * child once it is in its cgroup) and time (see nsx_ns_unshare_time). */
unsigned long nsx_ns_clone_flags(const struct nsx_ns_plan *plan);

/* create: a new time namespace can only be made by unshare, for the children to
 * come, and its offsets must be written before any process is in it. */
int nsx_ns_unshare_time(const struct nsx_ns_plan *plan, json_object *lnx, struct nsx_error *e);

/* create, in the child once it is in its cgroup: the new cgroup namespace. */
int nsx_ns_unshare_cgroup(const struct nsx_ns_plan *plan, struct nsx_error *e);

/* exec: the pidfd of the running container process `pid` (it pins the process: no
 * pid reuse race), or -1. */
int nsx_ns_open_process(int pid, struct nsx_error *e);

/* exec: joins every listed namespace of `pid` through its pidfd. */
int nsx_ns_join_process(const struct nsx_ns_plan *plan, int pidfd, int pid, struct nsx_error *e);

#endif
