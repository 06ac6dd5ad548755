/* Finding and executing the user program. */
#ifndef NSX_EXEC_H
#define NSX_EXEC_H

#include <stddef.h>
#include "error.h"

/* Resolves argv0 the way runc does: with a slash it is used as is (and must
 * exist), else it is searched in the PATH of envp. Writes the result to out. */
int nsx_exec_lookup(const char *argv0, char *const envp[], char *out, size_t outsz, struct nsx_error *e);

/* Marks every fd from `first` up close-on-exec (the protocol socket among them,
 * so it closes exactly when the exec succeeds). */
int nsx_exec_cloexec_from(int first, struct nsx_error *e);

/* execve; returns only on failure, with *e filled. */
int nsx_exec(const char *path, char *const argv[], char *const envp[], struct nsx_error *e);

#endif
