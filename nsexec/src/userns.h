/* A new user namespace's id maps, written by the parent for the child. */
#ifndef NSX_USERNS_H
#define NSX_USERNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "error.h"

/* Writes linux.uidMappings/gidMappings to /proc/<child>/{uid,gid}_map, denying
 * setgroups first when the writer lacks CAP_SETGID over the parent namespace. */
int nsx_userns_write_maps(pid_t child, json_object *lnx, struct nsx_error *e);

/* The host id that `maps` (linux.uidMappings or gidMappings, `what` names it in
 * errors) gives the container's root: 0 without maps; an error when maps exist
 * but leave root unmapped (runc: "no root user mapping found"). */
int nsx_userns_host_root(json_object *maps, const char *what, int64_t *out, struct nsx_error *e);

/* In the child once the maps exist: become the namespace's root, which must be
 * mapped. */
int nsx_userns_become_root(struct nsx_error *e);

/* True when setgroups(2) is denied in the current user namespace. */
bool nsx_userns_setgroups_denied(void);

#endif
