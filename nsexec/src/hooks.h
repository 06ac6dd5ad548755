/* hooks.createContainer and hooks.startContainer: run by nsexec itself, in the
 * container's namespaces, with the state JSON on stdin. */
#ifndef NSX_HOOKS_H
#define NSX_HOOKS_H

#include <json-c/json.h>
#include "error.h"
#include "seccomp.h"

/* Runs every hook of the array `name` in order; the first failure stops. With
 * `filter`, each hook's process loads it right before its execve (seccomp.h). */
int nsx_run_hooks(json_object *hooks, const char *name, const char *state, const struct nsx_seccomp *filter,
		  struct nsx_error *e);

#endif
