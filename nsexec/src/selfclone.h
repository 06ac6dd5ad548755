/* Protection against overwriting the host's nsexec through /proc/<pid>/exe
 * (CVE-2019-5736 class): nsexec re-executes itself from a sealed memfd copy
 * before it does anything else (owned by selfclone.c). */
#ifndef NSX_SELFCLONE_H
#define NSX_SELFCLONE_H

/* Called first in main(). Returns 0 when already running from a sealed copy;
 * otherwise execs the copy and only returns -1 on failure (errno set). */
int nsx_ensure_sealed_self(int argc, char **argv, char **envp);

#endif
