/* Structured failures: every step that fails fills an nsx_error, which is sent to
 * the runtime as one {"type":"error",...} protocol line (see PROTOCOL.md). */
#ifndef NSX_ERROR_H
#define NSX_ERROR_H

#include <limits.h>

struct nsx_error {
	const char *stage;   /* e.g. "mount", "pivot_root", "seccomp", "exec" */
	const char *syscall; /* the failing call, or NULL */
	int err;             /* errno, or 0 */
	char path[PATH_MAX]; /* the path involved, or "" */
	char message[1024];  /* human text, runc style: "<what>: <why>" */
};

/* Fills *e and returns -1, so callers can `return nsx_fail(e, ...)`. errno_value 0
 * means no syscall failed (a validation error). fmt describes what was attempted. */
int nsx_fail(struct nsx_error *e, const char *stage, const char *syscall, int errno_value,
	     const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Writes e as one protocol line on fd (best effort: the process exits right after). */
void nsx_report_error(int fd, const struct nsx_error *e);

#endif
