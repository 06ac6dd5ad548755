/* Makes syscalls a default container profile decides on and prints, for each,
 * "name errno" (0 when it succeeded): what seccomp (or the kernel) answered.
 * The arguments are invalid on purpose, so that even where a call is allowed
 * (on a host, with every capability) it fails and changes nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void probe(const char *name, long nr, long a0, long a1, long a2, long a3)
{
	errno = 0;
	long r = syscall(nr, a0, a1, a2, a3, 0L, 0L);
	printf("%s %d\n", name, r < 0 ? errno : 0);
}

int main(void)
{
	probe("getpid", SYS_getpid, 0, 0, 0, 0);
	/* Refused to every default container: EPERM. Invalid flags, NULL path, invalid flags. */
	probe("kexec_load", SYS_kexec_load, 0, 1, 0, 0x7fff0000);
	probe("swapon", SYS_swapon, 0, 0, 0, 0);
	probe("userfaultfd", SYS_userfaultfd, 0x7fff0000, 0, 0, 0);
	/* Capability-gated (CAP_SYS_ADMIN, CAP_SYS_PACCT): EPERM without it. A length above the
	 * limit (twice), a path that is not there. */
	probe("sethostname", SYS_sethostname, (long)"x", 100000, 0, 0);
	probe("setdomainname", SYS_setdomainname, (long)"x", 100000, 0, 0);
	probe("acct", SYS_acct, (long)"/nonexistent/acct", 0, 0, 0);
	/* A personality outside the allowed values, and a syscall number no profile knows: ENOSYS. */
	probe("personality-addr-no-randomize", SYS_personality, 0x0040000, 0, 0, 0);
	probe("syscall-1000", 1000, 0, 0, 0, 0);
	return 0;
}
