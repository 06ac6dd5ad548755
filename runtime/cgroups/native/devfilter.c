/*
 * rocker-devfilter <cgroup2-dir>: loads the BPF_PROG_TYPE_CGROUP_DEVICE program
 * read from stdin (raw struct bpf_insn array, built by runtime/cgroups/device-bpf.ts)
 * and attaches it to the cgroup2 directory. The attachment keeps the program alive
 * after this helper exits; it goes away with the cgroup. Node cannot call bpf(2),
 * hence this helper. Errors go to stderr as one line; the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS 4096

static int bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s%s%s\n", what, strerror(errno), detail[0] ? ": " : "", detail);
	return 1;
}

int main(int argc, char **argv)
{
	static struct bpf_insn insns[MAX_INSNS];
	static char log[65536];
	size_t got = 0;
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: rocker-devfilter <cgroup2-dir> < program\n");
		return 2;
	}
	while ((n = read(0, (char *)insns + got, sizeof(insns) - got)) > 0)
		got += (size_t)n;
	if (n < 0)
		return fail("read program", "");
	if (got == 0 || got % sizeof(struct bpf_insn) != 0) {
		fprintf(stderr, "read program: %zu bytes is not a whole number of instructions\n", got);
		return 1;
	}

	int cg = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return fail("open", "");

	union bpf_attr load;
	memset(&load, 0, sizeof(load));
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (__u64)(unsigned long)insns;
	load.insn_cnt = (__u32)(got / sizeof(struct bpf_insn));
	load.license = (__u64)(unsigned long)"Apache";
	load.log_buf = (__u64)(unsigned long)log;
	load.log_size = sizeof(log);
	load.log_level = 1;
	int prog = bpf(BPF_PROG_LOAD, &load);
	if (prog < 0)
		return fail("load device program", log);

	union bpf_attr attach;
	memset(&attach, 0, sizeof(attach));
	attach.target_fd = (__u32)cg;
	attach.attach_bpf_fd = (__u32)prog;
	attach.attach_type = BPF_CGROUP_DEVICE;
	attach.attach_flags = BPF_F_ALLOW_MULTI;
	if (bpf(BPF_PROG_ATTACH, &attach) < 0)
		return fail("attach device program", argv[1]);
	return 0;
}
