/* linux.sysctl, written through /proc/sys inside the container. */
#ifndef NSX_SYSCTL_H
#define NSX_SYSCTL_H

#include <json-c/json.h>
#include "error.h"

int nsx_set_sysctls(json_object *sysctl, struct nsx_error *e);

#endif
