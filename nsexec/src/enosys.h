/* ENOSYS for syscalls newer than a seccomp profile. libc falls back from a new
 * syscall (clone3, faccessat2, ...) only when it gets ENOSYS; a profile written
 * before the syscall existed would give it the default action (EPERM) instead.
 * The rule is runc's: unless the default action lets syscalls through (ALLOW, LOG,
 * TRACE), on each architecture the profile lists, a syscall number above the
 * largest one the profile's names resolve to on that architecture gets ENOSYS. A
 * short program doing that is put in front of libseccomp's. */
#ifndef NSX_ENOSYS_H
#define NSX_ENOSYS_H

#include <json-c/json.h>
#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the stub of every architecture libseccomp knows. */
#define NSX_ENOSYS_MAX_INSNS 256

/* Writes the stub for the architectures `arch_tokens` (libseccomp's SCMP_ARCH_*,
 * SCMP_ARCH_NATIVE allowed) and the names of `syscalls` (linux.seccomp.syscalls)
 * into out; returns its length, 0 when no stub applies. */
size_t nsx_enosys_stub(uint32_t default_action, const uint32_t *arch_tokens, size_t n_archs, json_object *syscalls,
		       struct sock_filter out[NSX_ENOSYS_MAX_INSNS]);

#endif
