// A per-container lock that serialises commands on one id. It is the bind of an
// abstract AF_UNIX socket name derived from (root, id): the kernel allows one
// binder and releases the name when the holder exits, even on SIGKILL, so
// there is no stale lock file to detect. A waiter connects to the holder and
// retries when that connection closes: event driven, no polling.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';

export interface Lock {
  release(): void;
}

/** 64-bit FNV-1a: cheap (no crypto start-up on this hot path); a collision would only serialise two ids. */
function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

function lockName(root: string, id: string): string {
  return `\0rocker/lock/${fnv1a64(`${resolve(root)}\0${id}`)}`;
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
