/* The process object's kernel-side attributes, shared by create and exec. */
#ifndef NSX_PROCESS_H
#define NSX_PROCESS_H

#include <stdbool.h>
#include <json-c/json.h>
#include "caps.h"
#include "error.h"

int nsx_set_rlimits(json_object *process, struct nsx_error *e);
int nsx_set_oom_score_adj(json_object *process, struct nsx_error *e);
int nsx_set_personality(json_object *lnx, struct nsx_error *e);
/* A fresh anonymous session keyring, so the host's keys are out of reach. */
int nsx_join_session_keyring(struct nsx_error *e);
int nsx_set_no_new_privs(struct nsx_error *e);
/* process.ioPriority and process.scheduler (before privileges are dropped). */
int nsx_set_io_priority(json_object *process, struct nsx_error *e);
int nsx_set_scheduler(json_object *process, struct nsx_error *e);

/* Drops the bounding set, switches to process.user (groups, gid, uid) keeping the
 * permitted capabilities across the switch, then sets the configured sets. */
int nsx_set_identity(json_object *process, const struct nsx_caps *caps, struct nsx_error *e);

/* process.user.umask (default 0022). */
int nsx_set_umask(json_object *process, struct nsx_error *e);

/* process.cwd, entered while still privileged (runc): a directory only root can
 * reach works for any user. When that is refused (EACCES/EPERM: root squashed on
 * a network filesystem, say), *retry is set and nsx_cwd_retry enters it again after
 * the user switch. Either checks the cwd is inside the root (CVE-2024-21626). */
int nsx_cwd_try(json_object *process, bool *retry, struct nsx_error *e);
int nsx_cwd_retry(json_object *process, struct nsx_error *e);

#endif
