// containerd-shim-rocker-v2: the shim v2 binary containerd runs for the runtime
// `io.containerd.rocker.v2` (docs/shim.md); its C front (shim/start/) answers `start`
// when the namespace's shim runs and execs this (bin/containerd-shim-rocker-v2-node) otherwise.
//   -namespace NS -address ADDR -publish-binary BIN [-id ID] [-bundle DIR] [-debug] start|delete
// `start` (cwd: the bundle) prints the ttrpc address of the shim process serving
// the namespace, starting that process first if none runs: one long-lived shim
// serves every container of a containerd namespace (pods included), so Node's
// start-up and memory are paid once, not per container. `delete` is containerd's
// cleanup after a shim died: the container is force-deleted with the runtime's
// own code and a DeleteResponse is written to stdout.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where containerd 1.6's own shims put their sockets. */
const SOCKET_DIR = '/run/containerd/s';
/** The runtime's --root per namespace, beside the runc shim's /run/containerd/runc/<ns>. */
const RUNTIME_ROOT = '/run/containerd/rocker';
const READY_TIMEOUT_MS = 30_000;
/** How long a shim serving no container waits for a new one before it exits. */
const IDLE_EXIT_MS = 10_000;

interface Flags {
  namespace: string;
  address: string;
  publishBinary: string;
  id: string;
  bundle: string;
  debug: boolean;
  action: string;
}

/** Go's flag syntax: -name value, -name=value, --name value; -debug alone. */
function parseFlags(argv: string[]): Flags {
  const f: Flags = { namespace: '', address: '', publishBinary: '', id: '', bundle: '', debug: false, action: '' };
  const names: Record<string, keyof Flags> = { namespace: 'namespace', address: 'address', 'publish-binary': 'publishBinary', id: 'id', bundle: 'bundle' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) {
      f.action = a;
      continue;
    }
    const [name, inline] = a.replace(/^--?/, '').split(/=(.*)/s);
    if (name === 'debug') {
      f.debug = true;
      continue;
    }
    const key = names[name];
    if (!key) throw new Error(`flag provided but not defined: -${name}`);
    (f as unknown as Record<string, string>)[key] = inline ?? argv[++i] ?? '';
  }
  if (!f.namespace) throw new Error('shim namespace cannot be empty');
  return f;
}

function runtimeRoot(ns: string): string {
  return join(RUNTIME_ROOT, ns);
}

/** One socket per containerd (its address) and namespace. */
function socketPath(f: Flags): string {
  const hash = createHash('sha256').update(join(f.address, f.namespace, 'rocker')).digest('hex');
  return join(SOCKET_DIR, hash);
}

function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function start(f: Flags): Promise<void> {
  const path = socketPath(f);
  mkdirSync(SOCKET_DIR, { recursive: true, mode: 0o711 });
  if (!(await alive(path))) {
    // Two containers created at once must not start two shims for one socket.
    const { lockFileByte } = await import('../runtime/state/file-lock.js');
    const root = runtimeRoot(f.namespace);
    mkdirSync(root, { recursive: true, mode: 0o711 });
    const lock = await lockFileByte(join(root, 'shim.lock'), 0);
    try {
      if (!(await alive(path))) {
        rmSync(path, { force: true });
        await spawnServer(f);
      }
    } finally {
      lock.release();
    }
  }
  const address = `unix://${path}`;
  // containerd reads it back (with the bundle) when it restarts and reconnects.
  writeFileSync('address', address);
  process.stdout.write(address);
}

/** Starts `serve` in its own session, stdio detached (containerd waits for start's output to close), and waits until it listens. */
function spawnServer(f: Flags): Promise<void> {
  const args = [process.argv[1], '-namespace', f.namespace, '-address', f.address, '-publish-binary', f.publishBinary, ...(f.debug ? ['-debug'] : []), 'serve'];
  const child = spawn(process.execPath, args, { cwd: '/', detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const ready = child.stdio[3]!;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`the shim did not listen within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    let said = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      ready.destroy();
      child.unref();
      if (err) reject(err);
      else resolve();
    };
    ready.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('\n')) done(said.startsWith('ok') ? undefined : new Error(said.trim()));
    });
    child.once('exit', (code, sig) => done(new Error(`the shim exited (${code ?? sig}) before listening${said ? `: ${said.trim()}` : ''}`)));
  });
}

async function serveMain(f: Flags): Promise<void> {
  const root = runtimeRoot(f.namespace);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const { Logger } = await import('../runtime/log/logger.js');
  const logger = new Logger({ file: join(root, 'shim.log'), format: 'json' });
  const { serve } = await import('./ttrpc.js');
  const { TaskService } = await import('./task-service.js');
  const { Publisher } = await import('./events.js');
  const path = socketPath(f);
  const events = new Publisher((process.env.TTRPC_ADDRESS ?? `${f.address}.ttrpc`).replace(/^unix:\/\//, ''), logger);
  let lastConnection = Date.now();
  const tasks = new TaskService(f.namespace, root, events, logger, () => {
    // containerd connects right after a `start` that found this shim, and the next
    // `ctr run --rm` of a script often comes a moment after the last one's Shutdown: a
    // connection within IDLE_EXIT_MS (or a container since) keeps the shim.
    const asked = Date.now();
    setTimeout(() => {
      if (tasks.size > 0 || lastConnection >= asked) return;
      rmSync(record, { force: true });
      server.close();
      rmSync(path, { force: true });
      process.exit(0);
    }, IDLE_EXIT_MS);
  });
  const server = serve(path, 'containerd.task.v2.Task', tasks.handlers(), () => (lastConnection = Date.now()));
  // The C front (shim/start/start.c) answers `start` from this record while the socket answers.
  const record = join(root, 'shim.address');
  server.once('listening', () => {
    writeFileSync(`${record}.tmp`, `${path}\n${f.address}\n`);
    renameSync(`${record}.tmp`, record);
    writeFileSync(3, 'ok\n');
    closeSync(3);
  });
  server.once('error', (e) => {
    writeFileSync(3, `${e.message}\n`);
    process.exit(1);
  });
  // A signal from a terminal or a process group must not end the containers' shim.
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);
}

async function deleteMain(f: Flags): Promise<void> {
  const bundle = f.bundle || process.cwd();
  const { Logger } = await import('../runtime/log/logger.js');
  const logger = new Logger({ format: 'json' });
  const { deleteContainer } = await import('../runtime/launch/delete.js');
  const { unmountRootfs } = await import('./rootfs.js');
  const { readExit, readInitPid } = await import('./files.js');
  const { encode, timestamp } = await import('./proto.js');
  try {
    await deleteContainer(runtimeRoot(f.namespace), f.id, true, false, logger);
  } catch (e) {
    logger.warn(`delete ${f.id}: ${(e as Error).message}`);
  }
  await unmountRootfs(bundle);
  // The monitor records the exit of the init the delete killed, right after.
  let exit = readExit(bundle);
  for (let i = 0; !exit && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 50));
    exit = readExit(bundle);
  }
  const pid = readInitPid(bundle);
  const at = exit ? new Date(exit.exitedAt) : new Date();
  process.stdout.write(encode('containerd.task.v2.DeleteResponse', { pid, exitStatus: exit?.exitCode ?? 137, exitedAt: timestamp(at) }));
}

async function main(argv: string[]): Promise<void> {
  let f: Flags;
  try {
    f = parseFlags(argv);
    if (f.action === 'start') await start(f);
    else if (f.action === 'delete') await deleteMain(f);
    else if (f.action === 'serve') await serveMain(f);
    else throw new Error(`unknown action ${JSON.stringify(f.action)}: expected start or delete`);
  } catch (e) {
    process.stderr.write(`containerd-shim-rocker-v2: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

void main(process.argv.slice(2));
