/*
 * The exit record of a container's init, written by rocker-monitor and by the containerd
 * shim's holder (shim/holder/): {"exitCode":N,"exitedAt":"<RFC3339Nano>"} (N = 128+S for
 * signal S), read back by front/monitor/exit-file.ts.
 */
#ifndef ROCKER_EXIT_RECORD_H
#define ROCKER_EXIT_RECORD_H
#include <stddef.h>

/* RFC3339 with nanoseconds, UTC (2026-12-05T17:41:33.123456789Z); returns its length. */
int rfc3339_now(char *out, size_t size);
/* A wait status as the shell and containerd read it: the exit code, or 128+signal. */
int exit_code(int status);
/* Writes the record for wait status `status` to `path` atomically (path.tmp + rename). */
void write_exit_record(const char *path, int status);

#endif
