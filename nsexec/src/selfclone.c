#include "selfclone.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* Linux 6.3+: asks for an executable memfd explicitly, which vm.memfd_noexec=1
 * requires (older kernels reject the flag with EINVAL; then it is not needed). */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* The seals that make the copy immutable: nothing may write, resize or unseal it. */
#define NSX_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* A regular file answers F_GET_SEALS with EINVAL; only our sealed memfd carries
 * every seal, so this tells "already the copy" apart from "the host binary". */
static int running_from_sealed_copy(int exe_fd)
{
	int seals = fcntl(exe_fd, F_GET_SEALS);

	return seals >= 0 && (seals & NSX_SEALS) == NSX_SEALS;
}

/* Copies the whole binary into a new memfd and seals it; returns the memfd. */
static int sealed_copy_of(int exe_fd)
{
	struct stat st;
	off_t offset = 0;
	int memfd, saved;

	if (fstat(exe_fd, &st) < 0)
		return -1;
	memfd = memfd_create("rocker-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (memfd < 0 && errno == EINVAL)
		memfd = memfd_create("rocker-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return -1;
	while (offset < st.st_size) {
		ssize_t n = sendfile(memfd, exe_fd, &offset, (size_t)(st.st_size - offset));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the binary shrank under us */
			goto fail;
		}
	}
	if (fcntl(memfd, F_ADD_SEALS, NSX_SEALS) < 0)
		goto fail;
	return memfd;
fail:
	saved = errno;
	close(memfd);
	errno = saved;
	return -1;
}

int nsx_ensure_sealed_self(int argc, char **argv, char **envp)
{
	/* nsexec reads nothing from its environment, and a container with
	 * CAP_SYS_PTRACE could read the caller's through /proc/<pid>/environ of
	 * the container process before its execve: the copy runs with none. */
	static char *const no_env[] = { NULL };
	int exe_fd, memfd, saved;

	(void)argc;
	exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe_fd < 0)
		return -1;
	if (running_from_sealed_copy(exe_fd)) {
		if (!envp || !envp[0]) {
			close(exe_fd);
			return 0;
		}
		memfd = exe_fd; /* already the copy: only the environment goes */
	} else {
		memfd = sealed_copy_of(exe_fd);
		saved = errno;
		close(exe_fd);
		if (memfd < 0) {
			errno = saved;
			return -1;
		}
	}
	/* MFD_CLOEXEC: the copy's fd disappears with the exec, leaving only the
	 * sealed mapping behind /proc/self/exe. */
	fexecve(memfd, argv, no_env);
	saved = errno;
	close(memfd);
	errno = saved;
	return -1;
}
