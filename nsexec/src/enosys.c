#include "enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>

#define X32_BIT 0x40000000U

/* One audited architecture (what seccomp_data.arch holds): x86_64 carries x32 too,
 * told apart by bit 30 of the syscall number, so it has a bound for each. */
struct bound {
	uint32_t audit;
	int64_t plain, x32; /* the largest number known, -1 when none */
};

static bool lets_through(uint32_t action)
{
	return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG || (action & SECCOMP_RET_ACTION_FULL) == SCMP_ACT_TRACE(0);
}

/* The largest number the names resolve to on this architecture, or -1. Names it does
 * not know, and the negative pseudo-numbers of multiplexed calls, do not count. */
static int64_t largest(uint32_t token, json_object *syscalls)
{
	size_t n = syscalls ? json_object_array_length(syscalls) : 0;
	int64_t max = -1;

	for (size_t i = 0; i < n; i++) {
		json_object *names;
		size_t m;

		if (!json_object_object_get_ex(json_object_array_get_idx(syscalls, i), "names", &names) ||
		    !json_object_is_type(names, json_type_array))
			continue;
		m = json_object_array_length(names);
		for (size_t j = 0; j < m; j++) {
			int nr = seccomp_syscall_resolve_name_arch(token, json_object_get_string(json_object_array_get_idx(names, j)));

			if (nr >= 0 && nr > max)
				max = nr;
		}
	}
	return max;
}

static size_t collect(const uint32_t *tokens, size_t n_archs, json_object *syscalls, struct bound *b)
{
	size_t nb = 0;

	for (size_t i = 0; i < n_archs; i++) {
		uint32_t token = tokens[i] == SCMP_ARCH_NATIVE ? seccomp_arch_native() : tokens[i];
		bool x32 = token == SCMP_ARCH_X32;
		uint32_t audit = x32 ? AUDIT_ARCH_X86_64 : token;
		int64_t max = largest(token, syscalls);
		size_t k = 0;

		while (k < nb && b[k].audit != audit)
			k++;
		if (k == nb)
			b[nb++] = (struct bound){ .audit = audit, .plain = -1, .x32 = -1 };
		if (x32)
			b[k].x32 = max;
		else
			b[k].plain = max;
	}
	return nb;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)))

/*
 * The stub, with E the ENOSYS return and F the first instruction of libseccomp's program:
 *	ld arch
 *	per architecture:  jeq AUDIT ? next : (next section)
 *	                   ld nr
 *	                   [s390: jeq 0 -> E, the multiplexer unknown numbers arrive as]
 *	                   [x86_64: jset X32_BIT -> x32 check]
 *	                   jgt PLAIN -> E : F     (ja F when the architecture has no bound)
 *	                   [x32 check: jgt X32 -> E : F]
 *	ja F
 *	E: ret ERRNO(ENOSYS)
 * Jumps are relative and forward; everything stays well within the 255 a jump reaches.
 */
size_t nsx_enosys_stub(uint32_t default_action, const uint32_t *arch_tokens, size_t n_archs, json_object *syscalls,
		       struct sock_filter out[NSX_ENOSYS_MAX_INSNS])
{
	struct bound b[32];
	struct sock_filter *p = out;
	struct sock_filter *to_e[NSX_ENOSYS_MAX_INSNS], *to_f[NSX_ENOSYS_MAX_INSNS];
	size_t ne = 0, nf = 0, nb;

	if (lets_through(default_action) || n_archs > sizeof(b) / sizeof(b[0]))
		return 0;
	nb = collect(arch_tokens, n_archs, syscalls, b);
	*p++ = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	for (size_t i = 0; i < nb; i++) {
		struct sock_filter *skip;
		bool x86_64 = b[i].audit == AUDIT_ARCH_X86_64;
		bool s390 = b[i].audit == AUDIT_ARCH_S390 || b[i].audit == AUDIT_ARCH_S390X;

		if (b[i].plain < 0 && b[i].x32 < 0)
			continue;
		skip = p;
		*p++ = JUMP(BPF_JMP | BPF_JEQ | BPF_K, b[i].audit, 0, 0);
		*p++ = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		if (s390) {
			to_e[ne++] = p;
			*p++ = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
		}
		if (x86_64)
			*p++ = JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_BIT, 1, 0);
		/* the plain bound: jt to E, jf to F */
		if (b[i].plain >= 0) {
			to_e[ne++] = p;
			to_f[nf++] = p;
			*p++ = JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)b[i].plain, 0, 0);
		} else {
			to_f[nf++] = p;
			*p++ = JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
		}
		if (x86_64) {
			if (b[i].x32 >= 0) {
				to_e[ne++] = p;
				to_f[nf++] = p;
				*p++ = JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)b[i].x32, 0, 0);
			} else {
				to_f[nf++] = p;
				*p++ = JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
			}
		}
		skip->jf = (uint8_t)(p - skip - 1);
	}
	if (p == out + 1)
		return 0; /* no architecture with a bound: nothing to check */
	to_f[nf++] = p;
	*p++ = JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
	*p = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	/* E is at p, F right after it */
	for (size_t i = 0; i < ne; i++)
		to_e[i]->jt = (uint8_t)(p - to_e[i] - 1);
	for (size_t i = 0; i < nf; i++) {
		struct sock_filter *j = to_f[i];
		uint32_t off = (uint32_t)(p + 1 - j - 1);

		if (BPF_OP(j->code) == BPF_JA)
			j->k = off;
		else
			j->jf = (uint8_t)off;
	}
	return (size_t)(p + 1 - out);
}
