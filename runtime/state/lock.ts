// A per-container lock that serialises commands on one id. It is the bind of an
// abstract AF_UNIX socket name derived from (root, id): the kernel allows one
// binder and releases the name when the holder exits, even on SIGKILL, so
// there is no stale lock file to detect. A waiter connects to the holder and
// retries when that connection closes: event driven, no polling.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export interface Lock {
  release(): void;
}

function lockName(root: string, id: string): string {
  const digest = createHash('sha256').update(`${resolve(root)}\0${id}`).digest('hex').slice(0, 48);
  return `\0rocker/lock/${digest}`;
}

function tryBind(name: string): Promise<Server | undefined> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? res(undefined) : rej(e)));
    server.listen(name, () => res(server));
  });
}

/** Resolves once the holder of `name` is gone (or already was). */
function holderGone(name: string): Promise<void> {
  return new Promise((res) => {
    const sock = connect(name);
    sock.on('error', () => undefined);
    sock.once('close', () => res());
    // The holder never writes; data is discarded so the stream keeps flowing.
    sock.on('data', () => undefined);
  });
}

export async function lockContainer(root: string, id: string): Promise<Lock> {
  const name = lockName(root, id);
  for (;;) {
    const server = await tryBind(name);
    if (server) return holding(server);
    await holderGone(name);
  }
}

function holding(server: Server): Lock {
  const waiters = new Set<Socket>();
  server.on('connection', (s) => {
    s.unref();
    s.on('error', () => undefined);
    waiters.add(s);
    s.once('close', () => waiters.delete(s));
  });
  // The lock never keeps the runtime alive by itself.
  server.unref();
  return {
    release() {
      server.close();
      for (const s of waiters) s.destroy();
    },
  };
}
