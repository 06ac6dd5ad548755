/* /dev inside the rootfs: the default nodes, linux.devices and the standard links. */
#ifndef NSX_DEVICES_H
#define NSX_DEVICES_H

#include <json-c/json.h>
#include "error.h"

/* Creates null, zero, full, random, urandom, tty and every linux.devices entry
 * (mknod, or a bind of the host node where mknod is not allowed, e.g. in a user
 * namespace), then the /dev/fd, std{in,out,err} and ptmx links. */
int nsx_devices_create(int rootfd, json_object *devices, struct nsx_error *e);

#endif
