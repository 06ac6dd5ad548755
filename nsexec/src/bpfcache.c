#include "bpfcache.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file: this magic, the flags and the instruction count (uint32 each, host
 * order: the cache never leaves the host), then the instructions. */
static const char magic[8] = "rkbpf\0\0\1";

struct header {
	char magic[8];
	uint32_t flags;
	uint32_t len;
};

int nsx_bpf_cache_read(const char *path, struct nsx_bpf *out)
{
	struct header h;
	struct stat st;
	size_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, magic, sizeof(magic)) || h.len == 0 || h.len > BPF_MAXINSNS ||
	    (size_t)st.st_size != sizeof(h) + (size = (size_t)h.len * sizeof(struct sock_filter))) {
		close(fd);
		return -1;
	}
	out->insns = malloc(size);
	if (!out->insns || read(fd, out->insns, size) != (ssize_t)size) {
		free(out->insns);
		out->insns = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	out->len = (unsigned short)h.len;
	out->flags = h.flags;
	return 0;
}

void nsx_bpf_cache_write(const char *path, const struct nsx_bpf *bpf)
{
	struct header h = { .flags = bpf->flags, .len = bpf->len };
	size_t size = (size_t)bpf->len * sizeof(struct sock_filter);
	char tmp[4096];
	int fd, ok;

	memcpy(h.magic, magic, sizeof(magic));
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	ok = write(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) && write(fd, bpf->insns, size) == (ssize_t)size;
	if (close(fd) < 0 || !ok || rename(tmp, path) < 0)
		unlink(tmp);
}
