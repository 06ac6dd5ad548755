/*
 * rocker-monitor: one per container, the role conmon plays for podman.
 *
 *   rocker-monitor --log FILE [--log-max BYTES] --pid-file FILE --exit-file FILE
 *                  [--sync-fd N] [--stdin] [--console-socket PATH] [--attach-socket PATH]
 *                  [--on-exit ARG]... -- RUNTIME-CREATE-COMMAND...
 *
 * Paths are absolute. It detaches (fork + setsid: the caller may exit at once), becomes the child
 * subreaper, and runs the runtime's `create` command (any runc-compatible
 * runtime) with the container's stdout and stderr as two pipes it holds. When
 * the runtime exits the container's init is re-parented to the monitor; the
 * monitor reports on the sync fd ("created <init-pid> <monitor-pid>\n" or
 * "failed <status> <monitor-pid>\n") and closes it. It writes every output
 * line in the CRI log format (`<RFC3339Nano> stdout|stderr F|P <text>`),
 * renaming FILE to FILE.1 when it would exceed --log-max, and once the init
 * has exited and its output is drained it writes the exit file atomically:
 *   {"exitCode":N,"exitedAt":"<RFC3339Nano>"}     (128+S for signal S)
 * --console-socket: the monitor listens there for the terminal master the
 * runtime sends (the caller passes the same path to the runtime's create); its
 * output is logged as stdout. --attach-socket: clients connecting there get the
 * container's output as it comes and what they send is the container's input
 * (the terminal, or with --stdin a pipe that is closed when a client ends its
 * input; such a client gets output until it closes). --on-exit: the words of a command run (not waited for) once
 * the exit file is written, e.g. a `rm` of the container. Starting the container (`runtime start`) is left to the
 * caller, so that it can attach or follow the log first. Nothing here knows about rocker's own state: a
 * shim can drive it with the same arguments.
 *
 * For a containerd shim (fifo mode): --stdout-fifo/--stderr-fifo PATH are opened read-write (no
 * reader needed, and never a SIGPIPE) and given to the command as its stdout/stderr, so the container
 * writes to them directly; a terminal's output is copied there instead. --stdin-fifo PATH is read
 * and copied to the container's input (the terminal, or a stdin pipe closed when the fifo's last
 * writer closes). --log is then optional. --pass-fd N: fd N goes to the command only (the monitor
 * closes its copy), e.g. the socket of a protocol the caller speaks with the command.
 * --control-fifo PATH: made by the monitor (0600); a line "resize ROWS COLS" written there sets
 * the terminal's window size (a containerd shim's ResizePty, rocker's attached terminal); one
 * that comes before the terminal is applied when it comes.
 * --await-pid-file: the command may exit before the pid file is written (a caller that writes it
 * itself); the monitor waits for it up to AWAIT_PID_MS, and an empty one means no init is coming.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child-signals.h"
#include "exit-record.h"
#include "unix-listen.h"

/* A line longer than this is written as P (partial) records, as the CRI does. */
#define LINE_MAX_BYTES 16384
/* After the init exits, output still in flight is read until this long a silence. */
#define DRAIN_MS 250
/* --await-pid-file: how long the pid file may take to appear after the command exited. */
#define AWAIT_PID_MS 60000
#define AWAIT_PID_STEP_MS 20

struct stream {
  const char *name;
  int fd;
  size_t len;
  char buf[LINE_MAX_BYTES];
};

static const char *log_path, *pid_file, *exit_file;
static long long log_max = 10LL * 1024 * 1024;
static int log_fd = -1;
static long long log_size;
static int sync_fd = -1;
/* The --on-exit command's words (NULL-terminated). */
#define MAX_HOOK_ARGS 16
static char *on_exit_argv[MAX_HOOK_ARGS + 1];
static int on_exit_argc;
/* Attached clients (rocker run -it, attach); a slow one loses output rather than stall the monitor. */
#define MAX_CLIENTS 4
static int clients[MAX_CLIENTS] = {-1, -1, -1, -1};
/* A client that ended its input (shutdown of its sending side) still gets output until it closes. */
static int client_reads[MAX_CLIENTS];

static void die(const char *what) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "rocker-monitor: %s: %s\n", what, strerror(errno));
  if (sync_fd >= 0) {
    char line[300];
    int m = snprintf(line, sizeof line, "failed 125 %d %.*s", (int)getpid(), n, msg);
    if (write(sync_fd, line, (size_t)m) < 0) {}
  }
  _exit(125);
}

static int open_log(void) {
  if (!log_path) return 0;
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return -1;
  struct stat st;
  log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

static void write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* a full disk loses log lines, never the container */
    p += w;
    n -= (size_t)w;
  }
}

static void record(struct stream *s, const char *text, size_t n, char tag) {
  static char rec[LINE_MAX_BYTES + 128];
  int h = rfc3339_now(rec, 64);
  h += snprintf(rec + h, 64, " %s %c ", s->name, tag);
  memcpy(rec + h, text, n);
  rec[h + n] = '\n';
  size_t total = (size_t)h + n + 1;
  if (log_size > 0 && log_size + (long long)total > log_max) {
    /* Rotation: one previous file is kept; readers read FILE.1 then FILE. */
    char old[PATH_MAX];
    snprintf(old, sizeof old, "%s.1", log_path);
    if (rename(log_path, old) == 0) {
      close(log_fd);
      if (open_log() < 0) log_fd = -1;
    }
  }
  if (log_fd < 0) return;
  write_all(log_fd, rec, total);
  log_size += (long long)total;
}

/* Fifo mode with a terminal: its output, raw, to the stdout fifo (-1: none). */
static int raw_out = -1;

/* Reads what is there; returns 0 at EOF. Complete lines become F records. */
static int pump(struct stream *s) {
  ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (n > 0 && raw_out >= 0) write_all(raw_out, s->buf + s->len, (size_t)n);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) {
    if (s->len) record(s, s->buf, s->len, 'F');
    s->len = 0;
    close(s->fd);
    s->fd = -1;
    return 0;
  }
  for (int c = 0; c < MAX_CLIENTS; c++)
    if (clients[c] >= 0 && send(clients[c], s->buf + s->len, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
      close(clients[c]);
      clients[c] = -1;
    }
  s->len += (size_t)n;
  size_t start = 0;
  for (size_t i = s->len - (size_t)n; i < s->len; i++) {
    if (s->buf[i] != '\n') continue;
    record(s, s->buf + start, i - start, 'F');
    start = i + 1;
  }
  memmove(s->buf, s->buf + start, s->len - start);
  s->len -= start;
  if (s->len == sizeof s->buf) {
    record(s, s->buf, s->len, 'P');
    s->len = 0;
  }
  return 1;
}

static pid_t read_pid_file(void) {
  char buf[32] = {0};
  int fd = open(pid_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  long v = n > 0 ? strtol(buf, NULL, 10) : 0;
  return v > 0 ? (pid_t)v : -1;
}

static void report(const char *line) {
  if (sync_fd < 0) return;
  write_all(sync_fd, line, strlen(line));
  close(sync_fd);
  sync_fd = -1;
}

/* The terminal master a runtime sends over --console-socket (SCM_RIGHTS). */
static int receive_fd(int conn) {
  char byte, control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static void usage(void) {
  static const char msg[] = "usage: rocker-monitor [--log FILE] [--log-max BYTES] --pid-file FILE --exit-file FILE [--sync-fd N] [--stdin] [--console-socket PATH] [--attach-socket PATH] [--on-exit ARG]... [--stdin-fifo PATH] [--stdout-fifo PATH] [--stderr-fifo PATH] [--pass-fd N] [--control-fifo PATH] [--await-pid-file] -- RUNTIME ARGS...\n";
  write_all(2, msg, sizeof msg - 1);
  _exit(2);
}

int main(int argc, char **argv) {
  const char *console_path = NULL, *attach_path = NULL;
  const char *stdin_fifo = NULL, *stdout_fifo = NULL, *stderr_fifo = NULL, *control_path = NULL;
  int want_stdin = 0, pass_fd = -1, await_pid = 0;
  int i = 1;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--")) { i++; break; }
    if (!strcmp(argv[i], "--stdin")) { want_stdin = 1; continue; }
    if (!strcmp(argv[i], "--await-pid-file")) { await_pid = 1; continue; }
    if (i + 1 >= argc) usage();
    if (!strcmp(argv[i], "--log")) log_path = argv[++i];
    else if (!strcmp(argv[i], "--log-max")) log_max = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--pid-file")) pid_file = argv[++i];
    else if (!strcmp(argv[i], "--exit-file")) exit_file = argv[++i];
    else if (!strcmp(argv[i], "--sync-fd")) sync_fd = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--console-socket")) console_path = argv[++i];
    else if (!strcmp(argv[i], "--attach-socket")) attach_path = argv[++i];
    else if (!strcmp(argv[i], "--on-exit") && on_exit_argc < MAX_HOOK_ARGS) on_exit_argv[on_exit_argc++] = argv[++i];
    else if (!strcmp(argv[i], "--stdin-fifo")) stdin_fifo = argv[++i];
    else if (!strcmp(argv[i], "--stdout-fifo")) stdout_fifo = argv[++i];
    else if (!strcmp(argv[i], "--stderr-fifo")) stderr_fifo = argv[++i];
    else if (!strcmp(argv[i], "--pass-fd")) pass_fd = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--control-fifo")) control_path = argv[++i];
    else usage();
  }
  /* Absolute paths: the monitor leaves the caller's directory (it may be unmounted). */
  if (!pid_file || !exit_file || i >= argc || log_max <= 0) usage();
  if ((log_path && log_path[0] != '/') || pid_file[0] != '/' || exit_file[0] != '/') usage();
  if ((stdin_fifo && stdin_fifo[0] != '/') || (stdout_fifo && stdout_fifo[0] != '/') || (stderr_fifo && stderr_fifo[0] != '/')) usage();
  if (control_path && control_path[0] != '/') usage();
  if (stdin_fifo) want_stdin = 1;
  if ((console_path && console_path[0] != '/') || (attach_path && attach_path[0] != '/')) usage();
  if (sync_fd >= 0 && fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) sync_fd = -1;

  /* Detach: the caller's child exits now, the monitor lives on in its own session. */
  pid_t p = fork();
  if (p < 0) die("fork");
  if (p > 0) _exit(0);
  if (setsid() < 0) die("setsid");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die("PR_SET_CHILD_SUBREAPER");
  if (chdir("/") < 0) die("chdir");
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) die("/dev/null");
  /* Its own stdio goes nowhere: a gone terminal must not signal or block it. */
  for (int fd = 0; fd < 3; fd++)
    if (fd != sync_fd && fd != pass_fd) dup2(null, fd);
  if (open_log() < 0) die(log_path);

  int sfd = child_signal_fd();
  if (sfd < 0) die("signalfd");

  int console_l = -1, attach_l = -1, console_c = -1;
  if (console_path && (console_l = listen_unix(console_path, 4)) < 0) die(console_path);
  if (attach_path && (attach_l = listen_unix(attach_path, 4)) < 0) die(attach_path);
  static struct stream out = {.name = "stdout"}, err = {.name = "stderr"}, tty = {.name = "stdout", .fd = -1};
  int po[2], pe[2], pi[2] = {-1, -1};
  if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) die("pipe");
  /* Fifo mode: read-write opens never wait for the other side. The container's output
     goes straight to the fifos in place of the pipes' write ends. */
  int fifo_in = -1, control = -1;
  /* Read-write: the fifo never reports EOF between two writers. */
  if (control_path) {
    unlink(control_path);
    if (mkfifo(control_path, 0600) < 0 || (control = open(control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) die(control_path);
  }
  if (stdin_fifo && (fifo_in = open(stdin_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) die(stdin_fifo);
  if (stdout_fifo) {
    int fd = open(stdout_fifo, O_RDWR | O_CLOEXEC);
    if (fd < 0) die(stdout_fifo);
    close(po[1]);
    po[1] = fd;
    if (console_path && (raw_out = open(stdout_fifo, O_RDWR | O_CLOEXEC)) < 0) die(stdout_fifo);
  }
  if (stderr_fifo) {
    int fd = open(stderr_fifo, O_RDWR | O_CLOEXEC);
    if (fd < 0) die(stderr_fifo);
    close(pe[1]);
    pe[1] = fd;
  }
  if (want_stdin && pipe2(pi, O_CLOEXEC) < 0) die("pipe");
  /* Where clients' input goes: the terminal once it came, else the stdin pipe. */
  int input = pi[1];
  pid_t runtime = fork();
  if (runtime < 0) die("fork");
  if (runtime == 0) {
    plain_signals();
    if (dup2(pi[0] >= 0 ? pi[0] : null, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0) _exit(127);
    execvp(argv[i], argv + i);
    _exit(127);
  }
  close(po[1]);
  close(pe[1]);
  if (pi[0] >= 0) close(pi[0]);
  if (pass_fd >= 0) close(pass_fd);
  close(null);
  /* In fifo mode nothing comes through the pipes: their write ends were never given out. */
  out.fd = po[0];
  err.fd = pe[0];
  if (stdout_fifo) { close(po[0]); out.fd = -1; }
  if (stderr_fifo) { close(pe[0]); err.fd = -1; }

  /* The last size asked for (0 rows: none), kept for a terminal that has not come yet. */
  struct winsize size = {0};
  pid_t init = 0;
  int init_status = 0, init_done = 0;
  /* Children reaped before the init pid is known (a kill between create and here). */
  pid_t early[8];
  int early_status[8], nearly = 0;
  /* --await-pid-file: the command exited before its caller wrote the pid file. */
  int awaiting_pid = 0, awaited_ms = 0;
  for (;;) {
    enum { N = 9 + MAX_CLIENTS };
    struct pollfd fds[N] = {{sfd, POLLIN, 0}, {out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}, {tty.fd, POLLIN, 0},
                            {console_l, POLLIN, 0}, {console_c, POLLIN, 0}, {attach_l, POLLIN, 0}, {fifo_in, POLLIN, 0},
                            {control, POLLIN, 0}};
    /* With no events asked, a client is still reported (POLLHUP) when it closes. */
    for (int c = 0; c < MAX_CLIENTS; c++) fds[9 + c] = (struct pollfd){clients[c], client_reads[c] ? POLLIN : 0, 0};
    if (init_done && out.fd < 0 && err.fd < 0 && tty.fd < 0) break;
    int r = poll(fds, N, init_done ? DRAIN_MS : awaiting_pid ? AWAIT_PID_STEP_MS : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("poll");
    if (r == 0 && awaiting_pid) {
      pid_t pid = read_pid_file();
      awaited_ms += AWAIT_PID_STEP_MS;
      /* A pid file that exists without a pid: the caller says no init is coming. */
      if (pid <= 0 && access(pid_file, F_OK) != 0 && awaited_ms < AWAIT_PID_MS) continue;
      awaiting_pid = 0;
      char line[64];
      if (pid <= 0) {
        snprintf(line, sizeof line, "failed 1 %d\n", (int)getpid());
        report(line);
        exit_file = NULL;
        init_done = 1;
        continue;
      }
      init = pid;
      snprintf(line, sizeof line, "created %d %d\n", (int)init, (int)getpid());
      report(line);
      for (int k = 0; k < nearly; k++)
        if (early[k] == init) { init_status = early_status[k]; init_done = 1; }
      continue;
    }
    if (r == 0) break; /* init gone and its output quiet: stragglers are not waited for */
    if (fds[7].revents) {
      /* The fifo's writer (containerd's client) sent input, or closed: EOF of a pipe stdin. */
      char in[4096];
      ssize_t n = read(fifo_in, in, sizeof in);
      if (n > 0 && input >= 0) write_all(input, in, (size_t)n);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close(fifo_in);
        fifo_in = -1;
        if (input >= 0 && input == pi[1]) { close(pi[1]); input = pi[1] = -1; }
      }
    }
    if (fds[1].revents) pump(&out);
    if (fds[2].revents) pump(&err);
    if (fds[3].revents && !pump(&tty)) input = -1; /* the terminal is gone: so is the container's input */
    if (fds[4].revents) console_c = accept4(console_l, NULL, NULL, SOCK_CLOEXEC);
    if (fds[5].revents) {
      /* One terminal per container: the socket is done with once it came. */
      tty.fd = receive_fd(console_c);
      if (tty.fd >= 0) input = tty.fd;
      if (tty.fd >= 0 && size.ws_row) ioctl(tty.fd, TIOCSWINSZ, &size);
      close(console_c);
      close(console_l);
      console_c = console_l = -1;
      unlink(console_path);
    }
    if (fds[6].revents) {
      int c = accept4(attach_l, NULL, NULL, SOCK_CLOEXEC);
      for (int k = 0; c >= 0 && k < MAX_CLIENTS; k++)
        if (clients[k] < 0) { clients[k] = c; client_reads[k] = 1; c = -1; }
      if (c >= 0) close(c);
    }
    if (fds[8].revents) {
      /* Whole lines: each writer sends one short line in a single write (atomic below PIPE_BUF). */
      char cmd[256];
      ssize_t n = read(control, cmd, sizeof cmd - 1);
      cmd[n > 0 ? n : 0] = 0;
      for (char *line = cmd, *next; n > 0 && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        unsigned rows, cols;
        if (sscanf(line, "resize %u %u", &rows, &cols) != 2 || !rows || !cols || rows > USHRT_MAX || cols > USHRT_MAX) continue;
        size = (struct winsize){.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        if (tty.fd >= 0) ioctl(tty.fd, TIOCSWINSZ, &size);
      }
    }
    for (int k = 0; k < MAX_CLIENTS; k++) {
      if (!fds[9 + k].revents || clients[k] < 0) continue;
      char in[4096];
      ssize_t n = client_reads[k] && (fds[9 + k].revents & POLLIN) ? read(clients[k], in, sizeof in) : -1;
      if (n > 0) {
        if (input >= 0) write_all(input, in, (size_t)n);
        continue;
      }
      if (n == 0) {
        /* The end of a client's input ends the container's stdin (not a terminal's). */
        client_reads[k] = 0;
        if (input >= 0 && input == pi[1]) { close(pi[1]); input = pi[1] = -1; }
        continue;
      }
      close(clients[k]);
      clients[k] = -1;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si) {}
    int status;
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
      if (w == runtime) {
        char line[64];
        runtime = 0;
        init = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? read_pid_file() : -1;
        if (init <= 0 && await_pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
          init = 0;
          awaiting_pid = 1;
          continue;
        }
        if (init <= 0) {
          snprintf(line, sizeof line, "failed %d %d\n", exit_code(status), (int)getpid());
          report(line);
          /* No container: output of the failed runtime is drained, no exit file. */
          exit_file = NULL;
          init_done = 1;
          continue;
        }
        snprintf(line, sizeof line, "created %d %d\n", (int)init, (int)getpid());
        report(line);
        for (int k = 0; k < nearly; k++)
          if (early[k] == init) { init_status = early_status[k]; init_done = 1; }
      } else if (init > 0 && w == init) {
        init_status = status;
        init_done = 1;
      } else if (init <= 0 && nearly < 8) {
        early[nearly] = w;
        early_status[nearly++] = status;
      }
    }
  }
  if (exit_file) write_exit_record(exit_file, init_status);
  /* Attached clients see EOF only now: the exit file is there when they look. */
  if (attach_path) unlink(attach_path);
  if (control_path) unlink(control_path);
  /* Only for a container that ran (an exit file): a failed create is its caller's to clean up. */
  if (exit_file && on_exit_argc > 0 && fork() == 0) {
    plain_signals();
    execvp(on_exit_argv[0], on_exit_argv);
    _exit(127);
  }
  return 0;
}
