/*
 * containerd-shim-rocker-v2, the binary containerd runs: the common cases of `start`
 * and `delete` in C, everything else by the Node shim (bin/containerd-shim-rocker-v2-node).
 *
 * containerd runs `start` once per container. When the namespace's shim already
 * serves this containerd, all `start` has to do is print its address and write it to
 * the bundle's `address` file: this does that without starting Node (~60 ms of CPU a
 * container, paid 50 times over by 50 parallel starts). The running shim records
 * "<socket path>\n<containerd address>\n" in <runtime root>/<namespace>/shim.address
 * (shim/main.ts); the address is used only if containerd's matches and the socket
 * accepts a connection. In any other case (no shim, a dead one, another action,
 * anything unexpected) the Node shim is exec'd with the same arguments.
 *
 * containerd runs `delete` after every task's connection closes, even when the shim
 * deleted the task itself, and then only reads the response for a task it still lists.
 * The shim marks a task it deleted with <bundle>/rocker-deleted (shim/files.ts); for
 * such a bundle an empty response (a valid DeleteResponse of defaults) is the answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The Node shim's runtime root per namespace (shim/main.ts RUNTIME_ROOT). */
#define RUNTIME_ROOT "/run/containerd/rocker"
#define NODE_SHIM "containerd-shim-rocker-v2-node"
/* What the shim leaves in a bundle whose task it deleted (shim/files.ts DELETED_MARKER). */
#define DELETED_MARKER "rocker-deleted"

static char *const *args;

/* The Node shim: bin/NODE_SHIM beside the dist/ this binary is in. Never returns. */
static void node_shim(void) {
  char self[PATH_MAX], path[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) _exit(127);
  self[n] = 0;
  snprintf(path, sizeof path, "%s/../bin/" NODE_SHIM, dirname(self));
  execv(path, args);
  fprintf(stderr, "containerd-shim-rocker-v2: exec %s: %s\n", path, strerror(errno));
  _exit(127);
}

static const char *flag(int argc, char **argv, const char *name, const char **action) {
  const char *value = NULL;
  size_t len = strlen(name);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') { *action = a; continue; }
    a += a[1] == '-' ? 2 : 1;
    if (!strncmp(a, name, len) && a[len] == '=') value = a + len + 1;
    else if (!strcmp(a, name) && i + 1 < argc) value = argv[++i];
    else if (strcmp(a, "debug") && strchr(a, '=') == NULL) i++; /* another flag's value */
  }
  return value;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  args = argv;
  const char *action = NULL;
  const char *ns = flag(argc, argv, "namespace", &action);
  const char *address = flag(argc, argv, "address", &action);
  if (action && !strcmp(action, "delete")) {
    const char *bundle = flag(argc, argv, "bundle", &action);
    char marker[PATH_MAX];
    snprintf(marker, sizeof marker, "%s/" DELETED_MARKER, bundle && *bundle ? bundle : ".");
    if (access(marker, F_OK) == 0) return 0;
    node_shim();
  }
  if (!action || strcmp(action, "start") || !ns || !address || !*ns || strchr(ns, '/') || !strcmp(ns, ".") || !strcmp(ns, "..")) node_shim();

  char file[PATH_MAX], rec[2 * PATH_MAX];
  snprintf(file, sizeof file, RUNTIME_ROOT "/%s/shim.address", ns);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) node_shim();
  ssize_t n = read(fd, rec, sizeof rec - 1);
  close(fd);
  if (n <= 0) node_shim();
  rec[n] = 0;
  char *sock = rec, *served = strchr(rec, '\n');
  if (!served) node_shim();
  *served++ = 0;
  char *end = strchr(served, '\n');
  if (!end) node_shim();
  *end = 0;
  if (strcmp(served, address)) node_shim();

  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof sa.sun_path) node_shim();
  strcpy(sa.sun_path, sock);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) node_shim();
  close(s);

  char out[PATH_MAX + 16];
  int len = snprintf(out, sizeof out, "unix://%s", sock);
  /* containerd reads it back (with the bundle, the cwd) when it restarts. */
  int af = open("address", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (af < 0 || write_all(af, out, (size_t)len) < 0) node_shim();
  close(af);
  return write_all(1, out, (size_t)len) < 0 ? 1 : 0;
}
