// A per-container lock that serialises commands on one id. It is the bind of an
// abstract AF_UNIX socket name derived from (root, id): the kernel allows one
// binder and releases the name when the holder exits, even on SIGKILL, so
// there is no stale lock file to detect. A waiter connects to the holder and
// retries when that connection closes: event driven, no polling.
import { resolve } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { SystemError } from '../errors.js';
import { nodeBinding } from '../node-binding.js';
import type { Server, Socket } from 'node:net';

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

/** The slice of Node's pipe handle (what net.Server listens with) used here. */
interface PipeHandle {
  bind(name: string): number;
  listen(backlog: number): number;
  close(): void;
  unref(): void;
  onconnection: ((status: number, client?: PipeHandle) => void) | null;
}
interface PipeBinding {
  Pipe: new (type: number) => PipeHandle;
  constants: { SERVER: number };
}

/**
 * Node's pipe handle, bound and listened on directly (see node-binding.ts):
 * net.Server.listen loads net, cluster and child_process (~3 ms, as much as the
 * rest of `delete`), and the uncontended lock is taken by every create, start and
 * delete. Where it is missing, net.Server is used.
 */
function pipeBinding(): PipeBinding | undefined {
  const b = nodeBinding('pipe_wrap') as PipeBinding | undefined;
  return typeof b?.Pipe === 'function' && typeof b.constants?.SERVER === 'number' ? b : undefined;
}

/** The lock, or undefined when another process (or this one) holds the name. */
async function tryBind(name: string): Promise<Lock | undefined> {
  const binding = pipeBinding();
  if (!binding) return tryBindNet(name);
  const handle = new binding.Pipe(binding.constants.SERVER);
  const status = handle.bind(name) || handle.listen(511);
  if (status === 0) return holdingHandle(handle);
  handle.close();
  const code = getSystemErrorName(status);
  if (code === 'EADDRINUSE') return undefined;
  throw new SystemError('bind', 'lock socket', Object.assign(new Error(code), { code }));
}

/** A waiter's connection is accepted and kept; the holder never writes to it. */
function holdingHandle(server: PipeHandle): Lock {
  const waiters = new Set<PipeHandle>();
  server.onconnection = (status, client) => {
    if (status !== 0 || !client) return;
    client.unref();
    waiters.add(client);
  };
  // The lock never keeps the runtime alive by itself.
  server.unref();
  return {
    release() {
      server.close();
      for (const c of waiters) c.close();
      waiters.clear();
    },
  };
}

async function tryBindNet(name: string): Promise<Lock | undefined> {
  const { createServer } = await import('node:net');
  const server = await new Promise<Server | undefined>((res, rej) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? res(undefined) : rej(e)));
    s.listen(name, () => res(s));
  });
  return server && holdingServer(server);
}

function holdingServer(server: Server): Lock {
  const waiters = new Set<Socket>();
  server.on('connection', (s) => {
    s.unref();
    s.on('error', () => undefined);
    waiters.add(s);
    s.once('close', () => waiters.delete(s));
  });
  server.unref();
  return {
    release() {
      server.close();
      for (const s of waiters) s.destroy();
    },
  };
}

/** Resolves once the holder of `name` is gone (or already was). Only a contended lock gets here. */
async function holderGone(name: string): Promise<void> {
  const { connect } = await import('node:net');
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
    const lock = await tryBind(name);
    if (lock) return lock;
    await holderGone(name);
  }
}
