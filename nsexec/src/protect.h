/* After pivot_root: readonlyPaths, maskedPaths and a read-only root. */
#ifndef NSX_PROTECT_H
#define NSX_PROTECT_H

#include <json-c/json.h>
#include "error.h"

/* Binds each existing path onto itself read-only (recursively). */
int nsx_readonly_paths(json_object *paths, struct nsx_error *e);

/* Hides each existing path: /dev/null over a file, an empty read-only tmpfs over
 * a directory. */
int nsx_masked_paths(json_object *paths, struct nsx_error *e);

/* Remounts / read-only. */
int nsx_root_readonly(struct nsx_error *e);

/* Remounts the container's /dev with flags (MS_RDONLY among them), once it is filled. */
int nsx_dev_readonly(unsigned long flags, struct nsx_error *e);

#endif
