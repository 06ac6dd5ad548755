/* linux.seccomp: built from the OCI object before the last set-up steps, loaded
 * as the very last thing before execve (owned by seccomp.c). */
#ifndef NSX_SECCOMP_H
#define NSX_SECCOMP_H

#include <stdint.h>
#include <json-c/json.h>
#include "error.h"

struct nsx_seccomp; /* opaque: a compiled filter waiting to be loaded */

/* Parses and compiles `seccomp` (the OCI linux.seccomp object; NULL means none, and
 * *out is set to NULL). Unknown syscall names are skipped, as runc does; an unknown
 * action, operator or architecture is an error. When SCMP_ACT_NOTIFY is used this
 * connects to listenerPath, so call it while that host path still resolves
 * (before pivot_root). */
int nsx_seccomp_prepare(json_object *seccomp, struct nsx_seccomp **out, struct nsx_error *e);

/* The same, through the compiled-program cache at `cache` (a host path; NULL: none):
 * read from it when it is there, else compiled, exported and written to it. */
int nsx_seccomp_prepare_cached(json_object *seccomp, const char *cache, struct nsx_seccomp **out,
			       struct nsx_error *e);

/* Loads the filter into the calling thread. For SCMP_ACT_NOTIFY rules the listener fd
 * is sent to linuxSeccomp.listenerPath with the state JSON `state` (may be NULL) and
 * `host_pid`, the caller's pid as the host sees it (0: the state's, i.e. the init's). */
int nsx_seccomp_load(struct nsx_seccomp *f, const char *state, int64_t host_pid, struct nsx_error *e);

/* A startContainer hook runs under the container's filter (as runc's, forked from
 * its init after the filter is in): nsexec forks the hook before loading its own, so
 * the hook's process loads a copy as its last step before execve. The copy has no
 * listener: a syscall that notifies gets ENOSYS in a hook. nsx_seccomp_for_hooks
 * (in nsexec, before the forks) makes the program the copy loads; nsx_seccomp_load_copy
 * (in the hook's process) loads it and returns 0 or an errno. */
int nsx_seccomp_for_hooks(struct nsx_seccomp *f, struct nsx_error *e);
int nsx_seccomp_load_copy(const struct nsx_seccomp *f);

void nsx_seccomp_free(struct nsx_seccomp *f);

/* The "linux.seccomp" object of the runtime-spec features document (enabled,
 * actions, operators, archs, knownFlags, supportedFlags), built from the same
 * tables nsx_seccomp_prepare parses with. The caller owns the result. */
json_object *nsx_seccomp_features(void);

#endif
