/* The exit record (exit-record.h): one writer for rocker-monitor and the shim's holder. */
#include "exit-record.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int rfc3339_now(char *out, size_t size) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
  return (int)n + snprintf(out + n, size - n, ".%09ldZ", ts.tv_nsec);
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void write_exit_record(const char *path, int status) {
  char ts[64], body[160], tmp[PATH_MAX];
  rfc3339_now(ts, sizeof ts);
  int n = snprintf(body, sizeof body, "{\"exitCode\":%d,\"exitedAt\":\"%s\"}\n", exit_code(status), ts);
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  /* A short write (full disk) leaves no record rather than a truncated one. */
  int ok = write(fd, body, (size_t)n) == n && fsync(fd) == 0;
  close(fd);
  if (ok) rename(tmp, path);
  else unlink(tmp);
}
