/* A compiled seccomp filter kept in the container's state dir: exec loads what an
 * earlier exec compiled instead of compiling linux.seccomp again (libseccomp takes
 * ~10 ms for a 370-syscall profile; loading the program takes microseconds). The
 * container's seccomp config never changes, so neither does its program. */
#ifndef NSX_BPFCACHE_H
#define NSX_BPFCACHE_H

#include <linux/filter.h>

struct nsx_bpf {
	struct sock_filter *insns; /* malloc'd, or NULL */
	unsigned short len;
	unsigned int flags;        /* seccomp(2) SECCOMP_FILTER_FLAG_* to load it with */
};

/* 0 with *out filled, or -1 when the file is absent or not a cache (then compile). */
int nsx_bpf_cache_read(const char *path, struct nsx_bpf *out);

/* Best effort and atomic (a temporary file renamed into place): a cache that could
 * not be written only costs the next exec a compile. */
void nsx_bpf_cache_write(const char *path, const struct nsx_bpf *bpf);

#endif
