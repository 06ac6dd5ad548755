// The store's update lock: a listening socket in Linux's abstract unix-socket
// namespace, named after the store's real path. Binding is exclusive and the
// kernel drops the name when the holder exits, however it exits (kill -9
// included), so a dead holder never leaves a stale lock behind. Waiters connect
// to the holder and wake when that connection closes (released or died): no
// polling. Limit: abstract names are per network namespace, so processes in
// different netns sharing one store do not exclude each other.
import net from 'node:net';
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';

export class StoreLock {
  private constructor(
    private readonly server: net.Server,
    private readonly waiters: Set<net.Socket>,
  ) {}

  static async acquire(root: string): Promise<StoreLock> {
    const name = '\0rocker-image-lock/' + createHash('sha256').update(await realpath(root)).digest('hex').slice(0, 40);
    for (;;) {
      const waiters = new Set<net.Socket>();
      const server = await tryListen(name, waiters);
      if (server) return new StoreLock(server, waiters);
      await waitForHolder(name);
    }
  }

  async release(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.waiters) s.destroy();
    await closed;
  }
}

function tryListen(name: string, waiters: Set<net.Socket>): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      // Waiters only watch for the close; the holder must not be kept alive by them.
      sock.unref();
      waiters.add(sock);
      sock.on('close', () => waiters.delete(sock));
      sock.on('error', () => sock.destroy());
    });
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
    server.listen({ path: name }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** Resolves when the current holder releases the lock or dies. */
function waitForHolder(name: string): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect({ path: name });
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    sock.resume();
  });
}

/** Runs fn while holding the store lock. */
export async function withStoreLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = await StoreLock.acquire(root);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
