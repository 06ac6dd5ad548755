/*
 * rocker-shim-holder: the resident half of containerd-shim-rocker-v2, one per containerd
 * namespace (docs/shim.md, "The holder's channel").
 *
 *   rocker-shim-holder --socket PATH --ready-fd N [--record FILE] -- WORKER-ARGV...
 *
 * It owns the ttrpc socket containerd connects to, is the child subreaper of the
 * container inits (it writes their exit records) and holds containerd's parked `Wait`s.
 * The Node shim is its worker, started on demand with a channel socket as its fd 3 and
 * ended when it says it is idle: the holder relays whole ttrpc frames between
 * containerd's connections and the worker, and reads no protobuf (it writes one error).
 *
 * Channel message: type (u8, a letter), a (u32BE), body length (u32BE), body.
 *   holder -> worker  F conn frame | C conn (closed)
 *   worker -> holder  F conn frame | P conn stream+key (park) | R 0 klen(u16)+key+payload
 *                     (release) | W pid path (watch) | I (idle) | Q (quit)
 *
 * Single-threaded, epoll + signalfd. A client's error ends that client, never the holder;
 * buffers exist only while they hold bytes (it is resident beside every container).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../../front/monitor/child-signals.h"
#include "../../front/monitor/exit-record.h"
#include "../../front/monitor/unix-listen.h"

/* ttrpc's own limit on a message; a longer frame ends its connection. */
#define MAX_FRAME (4u << 20)
#define TTRPC_HEADER 10
#define TTRPC_REQUEST 1
#define TTRPC_RESPONSE 2
#define MSG_HEADER 9
/* A worker message is at most a frame plus its routing. */
#define MAX_MSG (MAX_FRAME + TTRPC_HEADER + 4096)
/* Past this much unsent output a connection that does not read is closed, and
 * containerd's connections are not read while this much waits for the worker. */
#define MAX_PENDING (16u << 20)
/* containerd's Shutdown: honoured only after this long without a connection or frame. */
#define QUIET_MS 10000
/* Exits of unwatched children, kept for a watch that comes late. */
#define MAX_ORPHANS 32
#define ORPHAN_MS 60000
#define UNAVAILABLE 14
/* An exit this recent may not have been seen by the running worker yet: its idle waits. */
#define WAKE_GRACE_MS 2000

struct buf {
  char *p;
  size_t off, len, cap; /* bytes p[off..len) */
};

struct conn {
  uint32_t id;
  int fd;
  struct buf in, out;
  struct conn *next;
};

/* A request forwarded to a worker, answered by its F or P; gen: the worker it went to. */
struct request {
  uint32_t conn, stream, gen;
};

struct park {
  uint32_t conn, stream;
  size_t klen;
  char *key;
};

struct watch {
  pid_t pid;
  char *path;
};

struct orphan {
  pid_t pid;
  int status;
  long long at;
};

/* Small growable arrays (requests, parks, watches): count, capacity, items. */
#define ARRAY(T) struct { size_t n, cap; T *v; }
#define ARRAY_PUSH(a, item) (grow((void **)&(a).v, &(a).cap, (a).n + 1, sizeof *(a).v) ? ((a).v[(a).n++] = (item), 0) : -1)
#define ARRAY_DEL(a, i) ((a).v[i] = (a).v[--(a).n], (a).n ? 0 : (free((a).v), (a).v = NULL, (a).cap = 0))

static const char *socket_path, *record_path;
static char **worker_argv;
static int ep, listen_fd, sig_fd, listen_paused;
/* containerd's connections are not read while the worker's queue is over MAX_PENDING. */
static int conns_paused;
static struct conn *conns;
static uint32_t last_conn_id;
static long long last_activity, last_wake = -WAKE_GRACE_MS;

/* The worker: running (fd >= 0), stopping (pid > 0, fd < 0: its channel closed, not yet
 * reaped) or none. `queue` holds what goes to it; while stopping, what goes to the next. */
static struct {
  pid_t pid;
  int fd;
  uint32_t gen;
  int wanted; /* an exit to handle: a worker is started again once this one is reaped */
  struct buf in, queue;
} worker = {.fd = -1};
/* An idle the holder accepted ends the worker once the messages it sent before are read. */
static int idle_accepted;

static ARRAY(struct request) requests;
static ARRAY(struct park) parks;
static ARRAY(struct watch) watches;
static struct orphan orphans[MAX_ORPHANS];
static size_t n_orphans;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static uint32_t be32(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static void put_be32(char *p, uint32_t v) {
  p[0] = (char)(v >> 24);
  p[1] = (char)(v >> 16);
  p[2] = (char)(v >> 8);
  p[3] = (char)v;
}

static int grow(void **v, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap * 2 : 4;
  while (c < need) c *= 2;
  void *p = realloc(*v, c * size);
  if (!p) return 0;
  *v = p;
  *cap = c;
  return 1;
}

static size_t buf_size(const struct buf *b) { return b->len - b->off; }

static void buf_free(struct buf *b) {
  free(b->p);
  *b = (struct buf){0};
}

static int buf_append(struct buf *b, const void *data, size_t n) {
  if (b->off && b->len + n > b->cap) {
    memmove(b->p, b->p + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
  }
  if (!grow((void **)&b->p, &b->cap, b->len + n, 1)) return -1;
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

/* Drops n bytes from the front; a drained buffer is freed. */
static void buf_consume(struct buf *b, size_t n) {
  b->off += n;
  if (b->off == b->len) buf_free(b);
}

/* Writes what the socket takes now; -1 on an error other than "full". */
static int buf_flush(int fd, struct buf *b) {
  while (buf_size(b)) {
    ssize_t w = send(fd, b->p + b->off, buf_size(b), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno == EAGAIN ? 0 : -1;
    buf_consume(b, (size_t)w);
  }
  return 0;
}

static void watch_fd(int op, int fd, uint32_t events, void *ptr) {
  struct epoll_event ev = {.events = events, .data.ptr = ptr};
  epoll_ctl(ep, op, fd, &ev);
}

/* epoll tags for the fds that are not connections. */
static char tag_listen, tag_signal, tag_worker;

static void set_conn_events(struct conn *c) {
  uint32_t ev = (conns_paused ? 0 : EPOLLIN) | (buf_size(&c->out) ? EPOLLOUT : 0);
  watch_fd(EPOLL_CTL_MOD, c->fd, ev, c);
}

static struct conn *find_conn(uint32_t id) {
  for (struct conn *c = conns; c; c = c->next)
    if (c->id == id) return c;
  return NULL;
}

static void forget_request(uint32_t conn, uint32_t stream) {
  for (size_t i = 0; i < requests.n; i++)
    if (requests.v[i].conn == conn && requests.v[i].stream == stream) {
      ARRAY_DEL(requests, i);
      return;
    }
}

static void drop_park(size_t i) {
  free(parks.v[i].key);
  ARRAY_DEL(parks, i);
}

static void send_to_worker(char type, uint32_t a, const void *body, size_t n);

static void close_conn(struct conn *c) {
  for (struct conn **p = &conns; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  for (size_t i = requests.n; i-- > 0;)
    if (requests.v[i].conn == c->id) ARRAY_DEL(requests, i);
  for (size_t i = parks.n; i-- > 0;)
    if (parks.v[i].conn == c->id) drop_park(i);
  if (worker.fd >= 0) send_to_worker('C', c->id, NULL, 0);
  close(c->fd);
  buf_free(&c->in);
  buf_free(&c->out);
  free(c);
  if (listen_paused) {
    listen_paused = 0;
    watch_fd(EPOLL_CTL_ADD, listen_fd, EPOLLIN, &tag_listen);
  }
}

/* Queues a ttrpc frame for a connection; one that has stopped reading is closed. */
static void send_frame(struct conn *c, const char *frame, size_t n) {
  int was_empty = !buf_size(&c->out);
  if (buf_size(&c->out) + n > MAX_PENDING || buf_append(&c->out, frame, n) < 0) {
    close_conn(c);
    return;
  }
  if (was_empty && buf_flush(c->fd, &c->out) < 0) close_conn(c);
  else if (was_empty && buf_size(&c->out)) set_conn_events(c);
}

/* ttrpc.Response{status: google.rpc.Status{code: 14, message}} for a request of a worker that died. */
static void send_unavailable(struct conn *c, uint32_t stream, int status) {
  char msg[64], frame[TTRPC_HEADER + 4 + sizeof msg];
  int m = snprintf(msg, sizeof msg, "rocker shim worker exited (status %d)", exit_code(status));
  char *p = frame + TTRPC_HEADER;
  *p++ = 0x0a; /* Response.status: Status is 2 + 2 + m bytes (m < 128: one-byte varints) */
  *p++ = (char)(4 + m);
  *p++ = 0x08; /* Status.code */
  *p++ = UNAVAILABLE;
  *p++ = 0x12; /* Status.message */
  *p++ = (char)m;
  memcpy(p, msg, (size_t)m);
  p += m;
  size_t body = (size_t)(p - frame) - TTRPC_HEADER;
  put_be32(frame, (uint32_t)body);
  put_be32(frame + 4, stream);
  frame[8] = TTRPC_RESPONSE;
  frame[9] = 0;
  send_frame(c, frame, TTRPC_HEADER + body);
}

static void check_backlog(void) {
  int full = buf_size(&worker.queue) > MAX_PENDING;
  if (full == conns_paused) return;
  conns_paused = full;
  for (struct conn *c = conns; c; c = c->next) set_conn_events(c);
}

static void flush_worker(void) {
  if (worker.fd < 0) return;
  if (buf_flush(worker.fd, &worker.queue) < 0) return; /* the EPOLLERR/HUP that follows ends it */
  watch_fd(EPOLL_CTL_MOD, worker.fd, EPOLLIN | (buf_size(&worker.queue) ? EPOLLOUT : 0), &tag_worker);
  check_backlog();
}

static void start_worker(void);
static void on_worker_readable(void);

static void send_to_worker(char type, uint32_t a, const void *body, size_t n) {
  char h[MSG_HEADER];
  h[0] = type;
  put_be32(h + 1, a);
  put_be32(h + 5, (uint32_t)n);
  if (buf_append(&worker.queue, h, sizeof h) < 0) return;
  if (n && buf_append(&worker.queue, body, n) < 0) {
    /* Out of memory: the message is dropped whole, never a header without its body. */
    worker.queue.len -= sizeof h;
    if (!buf_size(&worker.queue)) buf_free(&worker.queue);
    return;
  }
  if (!worker.pid) start_worker();
  else flush_worker();
  check_backlog();
}

static void start_worker(void) {
  int sv[2];
  worker.wanted = 0;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    plain_signals();
    if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sv[1], 3) < 0) _exit(127);
    execv(worker_argv[0], worker_argv);
    _exit(127);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return;
  }
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  worker.pid = pid;
  worker.fd = sv[0];
  worker.gen++;
  watch_fd(EPOLL_CTL_ADD, worker.fd, EPOLLIN, &tag_worker);
  flush_worker();
}

/* Closes the channel: the worker exits at EOF; it is reaped later (stopping). */
static void stop_worker(void) {
  idle_accepted = 0;
  close(worker.fd);
  worker.fd = -1;
  buf_free(&worker.in);
  buf_free(&worker.queue); /* what it had not read goes with it: those requests get errors */
  check_backlog();
}

/* An exit to handle: a worker is started now, or once this one is reaped unless it ends
 * by an idle (it saw the exit, the grace ensures). */
static void wake(void) {
  last_wake = now_ms();
  if (!worker.pid) start_worker();
  else worker.wanted = 1;
}

static void worker_reaped(int status) {
  /* What it sent before it died is read first (to EOF): answers, parks, watches. */
  if (worker.fd >= 0) on_worker_readable();
  if (worker.fd >= 0) stop_worker();
  worker.pid = 0;
  /* send_unavailable may close a connection, which deletes from requests: hence the bound check. */
  for (size_t i = requests.n; i-- > 0;) {
    if (i >= requests.n || requests.v[i].gen != worker.gen) continue;
    struct request r = requests.v[i];
    ARRAY_DEL(requests, i);
    struct conn *c = find_conn(r.conn);
    if (c) send_unavailable(c, r.stream, status);
  }
  if (worker.wanted || buf_size(&worker.queue)) start_worker();
}

static void on_idle(void) {
  if (now_ms() - last_wake < WAKE_GRACE_MS) return;
  for (size_t i = 0; i < requests.n; i++)
    if (requests.v[i].gen == worker.gen) return;
  if (!buf_size(&worker.queue)) idle_accepted = 1;
}

/* The record is the namespace's: another containerd's holder may have written it since. */
static int record_names_us(void) {
  char line[4096];
  size_t n = strlen(socket_path);
  int fd = record_path ? open(record_path, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return 0;
  ssize_t r = read(fd, line, sizeof line);
  close(fd);
  return r > (ssize_t)n && !memcmp(line, socket_path, n) && line[n] == '\n';
}

static void quit(void) {
  if (requests.n || parks.n || watches.n || now_ms() - last_activity < QUIET_MS) return;
  unlink(socket_path);
  if (record_names_us()) unlink(record_path);
  exit(0);
}

/* Past ORPHAN_MS an entry's pid may name another process: it goes. */
static void prune_orphans(long long t) {
  for (size_t i = n_orphans; i-- > 0;)
    if (t - orphans[i].at > ORPHAN_MS) orphans[i] = orphans[--n_orphans];
}

static void on_watch(pid_t pid, const char *path) {
  prune_orphans(now_ms());
  for (size_t i = 0; i < n_orphans; i++)
    if (orphans[i].pid == pid) {
      write_exit_record(path, orphans[i].status);
      orphans[i] = orphans[--n_orphans];
      return;
    }
  char *copy = strdup(path);
  if (!copy) return;
  for (size_t i = 0; i < watches.n; i++)
    if (watches.v[i].pid == pid) {
      free(watches.v[i].path);
      watches.v[i].path = copy;
      return;
    }
  if (ARRAY_PUSH(watches, ((struct watch){pid, copy})) < 0) free(copy);
}

static void on_release(const char *body, size_t n) {
  if (n < 2) return;
  size_t klen = (size_t)((unsigned char)body[0] << 8 | (unsigned char)body[1]);
  if (klen > n - 2) return;
  const char *key = body + 2, *payload = key + klen;
  size_t plen = n - 2 - klen;
  char h[TTRPC_HEADER];
  /* send_frame may close a connection, which deletes from parks: hence the bound check. */
  for (size_t i = parks.n; i-- > 0;) {
    if (i >= parks.n) continue;
    struct park *k = &parks.v[i];
    if (k->klen != klen || memcmp(k->key, key, klen)) continue;
    struct conn *c = find_conn(k->conn);
    put_be32(h, (uint32_t)plen);
    put_be32(h + 4, k->stream);
    h[8] = TTRPC_RESPONSE;
    h[9] = 0;
    drop_park(i);
    if (!c) continue;
    /* One append for the frame: send_frame may close c. */
    char *frame = malloc(sizeof h + plen);
    if (!frame) continue;
    memcpy(frame, h, sizeof h);
    memcpy(frame + sizeof h, payload, plen);
    send_frame(c, frame, sizeof h + plen);
    free(frame);
  }
}

/* One message from the worker; 0 if it is malformed. */
static int on_message(char type, uint32_t a, const char *body, size_t n) {
  struct conn *c;
  switch (type) {
  case 'F':
    if (n < TTRPC_HEADER || be32(body) != n - TTRPC_HEADER) return 0;
    forget_request(a, be32(body + 4));
    if ((c = find_conn(a))) send_frame(c, body, n);
    return 1;
  case 'P':
    if (n < 4) return 0;
    forget_request(a, be32(body));
    if (find_conn(a)) {
      struct park k = {a, be32(body), n - 4, malloc(n - 4 ? n - 4 : 1)};
      if (!k.key) return 1;
      memcpy(k.key, body + 4, n - 4);
      if (ARRAY_PUSH(parks, k) < 0) free(k.key);
    }
    return 1;
  case 'R':
    on_release(body, n);
    return 1;
  case 'W': {
    char path[4096];
    if ((int32_t)a <= 0 || n == 0 || n >= sizeof path || body[0] != '/' || memchr(body, 0, n)) return 0;
    memcpy(path, body, n);
    path[n] = 0;
    on_watch((pid_t)a, path);
    return 1;
  }
  case 'I':
    on_idle();
    return 1;
  case 'Q':
    quit();
    return 1;
  }
  return 0;
}

static char io[65536];

static void on_worker_readable(void) {
  for (;;) {
    ssize_t r = read(worker.fd, io, sizeof io);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      if (idle_accepted) {
        worker.wanted = 0;
        stop_worker();
      }
      return;
    }
    if (r <= 0 || buf_append(&worker.in, io, (size_t)r) < 0) {
      stop_worker(); /* it ended or broke the channel: reaped soon */
      return;
    }
    while (buf_size(&worker.in) >= MSG_HEADER) {
      const char *m = worker.in.p + worker.in.off;
      uint32_t n = be32(m + 5);
      if (n > MAX_MSG) {
        stop_worker();
        return;
      }
      if (buf_size(&worker.in) < MSG_HEADER + (size_t)n) break;
      /* Handled in place: nothing a message does touches worker.in (Q exits). */
      if (!on_message(m[0], be32(m + 1), m + MSG_HEADER, n)) {
        stop_worker();
        return;
      }
      buf_consume(&worker.in, MSG_HEADER + n);
    }
  }
}

/* Complete frames to the worker; 0 if the connection was closed. */
static int on_conn_readable(struct conn *c) {
  ssize_t r = read(c->fd, io, sizeof io);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (r <= 0 || buf_append(&c->in, io, (size_t)r) < 0) {
    close_conn(c);
    return 0;
  }
  while (buf_size(&c->in) >= TTRPC_HEADER) {
    const char *f = c->in.p + c->in.off;
    uint32_t n = be32(f);
    if (n > MAX_FRAME) {
      close_conn(c);
      return 0;
    }
    if (buf_size(&c->in) < TTRPC_HEADER + (size_t)n) break;
    last_activity = now_ms();
    if (f[8] == TTRPC_REQUEST) {
      /* Queued while one is stopping, it goes to the next worker. */
      struct request req = {c->id, be32(f + 4), worker.gen + (worker.fd < 0)};
      ARRAY_PUSH(requests, req);
    }
    uint32_t id = c->id;
    send_to_worker('F', id, f, TTRPC_HEADER + n);
    if (!(c = find_conn(id))) return 0;
    buf_consume(&c->in, TTRPC_HEADER + n);
  }
  return 1;
}

static void on_accept(void) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    /* Out of fds: stop listening until a connection closes, rather than spin. */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      listen_paused = 1;
      epoll_ctl(ep, EPOLL_CTL_DEL, listen_fd, NULL);
    }
    return;
  }
  struct conn *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return;
  }
  c->id = ++last_conn_id;
  c->fd = fd;
  c->next = conns;
  conns = c;
  last_activity = now_ms();
  watch_fd(EPOLL_CTL_ADD, fd, conns_paused ? 0 : EPOLLIN, c);
}

static void add_orphan(pid_t pid, int status) {
  long long t = now_ms();
  prune_orphans(t);
  if (n_orphans == MAX_ORPHANS) {
    size_t oldest = 0;
    for (size_t i = 1; i < n_orphans; i++)
      if (orphans[i].at < orphans[oldest].at) oldest = i;
    orphans[oldest] = orphans[--n_orphans];
  }
  orphans[n_orphans++] = (struct orphan){pid, status, t};
}

static void reap(void) {
  struct signalfd_siginfo si;
  while (read(sig_fd, &si, sizeof si) > 0) {}
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == worker.pid) {
      worker_reaped(status);
      continue;
    }
    size_t i = 0;
    while (i < watches.n && watches.v[i].pid != pid) i++;
    if (i < watches.n) {
      write_exit_record(watches.v[i].path, status);
      free(watches.v[i].path);
      ARRAY_DEL(watches, i);
    } else {
      add_orphan(pid, status);
    }
    wake();
  }
}

static void fail(int ready_fd, const char *what, const char *path) {
  dprintf(ready_fd, "%s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  int ready_fd = 2, i;
  for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
    if (i + 1 >= argc) break;
    if (!strcmp(argv[i], "--socket")) socket_path = argv[++i];
    else if (!strcmp(argv[i], "--ready-fd")) ready_fd = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--record")) record_path = argv[++i];
    else break;
  }
  if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc || argv[i + 1][0] != '/' || !socket_path || ready_fd < 0) {
    dprintf(ready_fd < 0 ? 2 : ready_fd, "usage: rocker-shim-holder --socket PATH --ready-fd N [--record FILE] -- /WORKER-ARGV...\n");
    return 1;
  }
  worker_argv = argv + i + 1;

  if ((sig_fd = child_signal_fd()) < 0) fail(ready_fd, "signalfd", "");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail(ready_fd, "subreaper", "");
  if ((listen_fd = listen_unix(socket_path, 128)) < 0) fail(ready_fd, "listen", socket_path);
  if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) fail(ready_fd, "epoll", "");
  watch_fd(EPOLL_CTL_ADD, listen_fd, EPOLLIN, &tag_listen);
  watch_fd(EPOLL_CTL_ADD, sig_fd, EPOLLIN, &tag_signal);
  last_activity = now_ms();
  if (write(ready_fd, "ok\n", 3) < 0) {} /* a caller that left is no reason to stop */
  close(ready_fd);

  for (;;) {
    struct epoll_event evs[32];
    int n = epoll_wait(ep, evs, 32, -1);
    for (int e = 0; e < n; e++) {
      void *tag = evs[e].data.ptr;
      uint32_t ev = evs[e].events;
      if (tag == &tag_listen) {
        if (!listen_paused) on_accept();
      } else if (tag == &tag_signal) {
        reap();
      } else if (tag == &tag_worker) {
        /* Stale after the channel closed within this batch: the tag names "the" worker. */
        if (worker.fd < 0) continue;
        if (ev & EPOLLOUT) flush_worker();
        if (worker.fd >= 0 && ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_worker_readable();
      } else {
        /* A connection closed earlier in this batch may still have an event here. */
        struct conn *c = conns;
        while (c && c != tag) c = c->next;
        if (!c) continue;
        if (ev & EPOLLOUT && buf_flush(c->fd, &c->out) < 0) {
          close_conn(c);
          continue;
        }
        if (ev & EPOLLOUT) set_conn_events(c);
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_conn_readable(c);
      }
    }
  }
}
