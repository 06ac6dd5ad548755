/* linux.sysctl, written through /proc/sys inside the container. */
#ifndef NSX_SYSCTL_H
#define NSX_SYSCTL_H

#include <json-c/json.h>
#include "error.h"
#include "namespaces.h"

int nsx_set_sysctls(json_object *sysctl, struct nsx_error *e);

/* Refuses keys outside every namespace the container has (they would change the
 * host), as runc does: ipc keys need ipc, net.* needs network, the uts names uts. */
int nsx_sysctl_check(json_object *sysctl, const struct nsx_ns_plan *ns, struct nsx_error *e);

#endif
