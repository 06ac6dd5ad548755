// containerd-shim-rocker-v2: the shim v2 binary containerd runs for the runtime
// `io.containerd.rocker.v2` (docs/shim.md); its C front (shim/start/) answers `start`
// when the namespace's shim runs and execs this (bin/containerd-shim-rocker-v2-node) otherwise.
//   -namespace NS -address ADDR -publish-binary BIN [-id ID] [-bundle DIR] [-debug] start|delete|worker
// `start` (cwd: the bundle) prints the ttrpc address of the shim serving the
// namespace, starting it first if none runs: one long-lived shim serves every
// container of a containerd namespace (pods included). That shim is the small C
// holder (shim/holder/), which owns the socket and the containers and starts
// `worker`, this file's Node task service, only while there is work: Node's
// memory is paid while containerd calls, not for as long as containers run.
// `delete` is containerd's cleanup after a shim died: the container is
// force-deleted with the runtime's own code and a DeleteResponse is written to stdout.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where containerd 1.6's own shims put their sockets. */
const SOCKET_DIR = '/run/containerd/s';
/** The runtime's --root per namespace, beside the runc shim's /run/containerd/runc/<ns>. */
const RUNTIME_ROOT = '/run/containerd/rocker';
const HOLDER = fileURLToPath(new URL('../rocker-shim-holder', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
/**
 * How long a worker with nothing to do stays: calls that come closer together (kubelet's
 * exec probes, every 10 s by default; a pod's containers) find it running.
 */
const LINGER_MS = 20_000;
/** A shim serving no container exits after containerd has been quiet this long (the holder checks too). */
const QUIET_EXIT_MS = 10_500;
const IDLE_CHECK_MS = 2_500;

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
    const { replaceFile } = await import('../runtime/state/state-file.js');
    const root = runtimeRoot(f.namespace);
    mkdirSync(root, { recursive: true, mode: 0o711 });
    const lock = await lockFileByte(join(root, 'shim.lock'), 0);
    try {
      if (!(await alive(path))) {
        rmSync(path, { force: true });
        await spawnHolder(f, path);
        // The C front (shim/start/start.c) answers `start` from this record while the socket answers.
        replaceFile(join(root, 'shim.address'), `${path}\n${f.address}\n`, 0o644);
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

/** Starts the holder in its own session, stdio detached (containerd waits for start's output to close), and waits until it listens. */
function spawnHolder(f: Flags, path: string): Promise<void> {
  // A small young generation: the worker's RSS is most of the shim's memory while it runs.
  const worker = [process.execPath, '--max-semi-space-size=1', process.argv[1], '-namespace', f.namespace, '-address', f.address, '-publish-binary', f.publishBinary, ...(f.debug ? ['-debug'] : []), 'worker'];
  const args = ['--socket', path, '--record', join(runtimeRoot(f.namespace), 'shim.address'), '--ready-fd', '3', '--', ...worker];
  const child = spawn(HOLDER, args, { cwd: '/', detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
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

/** The task service, started by the holder with their channel as fd 3; it ends when the holder closes it. */
async function workerMain(f: Flags): Promise<void> {
  const root = runtimeRoot(f.namespace);
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const { Logger } = await import('../runtime/log/logger.js');
  const logger = new Logger({ file: join(root, 'shim.log'), format: 'json' });
  const { HolderChannel } = await import('./holder-channel.js');
  const { TaskService } = await import('./task-service.js');
  const { Publisher } = await import('./events.js');
  const events = new Publisher((process.env.TTRPC_ADDRESS ?? `${f.address}.ttrpc`).replace(/^unix:\/\//, ''), logger);
  let channel: InstanceType<typeof HolderChannel> | undefined;
  const tasks = new TaskService(f.namespace, f.address, root, events, logger, {
    release: (key, response) => channel!.release(key, response),
    watch: (pid, exitFile) => channel!.watch(pid, exitFile),
  });
  channel = new HolderChannel(3, 'containerd.task.v2.Task', tasks.handlers(), () => {
    // Ended by the holder: what is being published goes out first.
    void events.drained().then(() => process.exit(0));
  });
  tasks.recover();
  const timer = setInterval(() => {
    const quiet = Date.now() - channel!.lastActivity;
    if (channel!.inflight > 0 || !events.idle) return;
    if (tasks.size === 0 && quiet >= QUIET_EXIT_MS) channel!.quit();
    if (!tasks.hasExecs && quiet >= LINGER_MS) channel!.idle();
  }, IDLE_CHECK_MS);
  timer.unref();
  // A signal from a terminal or a process group must not end the shim's work.
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
  const { removeTask } = await import('./task-record.js');
  try {
    await deleteContainer(runtimeRoot(f.namespace), f.id, true, false, logger);
  } catch (e) {
    logger.warn(`delete ${f.id}: ${(e as Error).message}`);
  }
  await unmountRootfs(bundle);
  // No later worker takes it over.
  removeTask(runtimeRoot(f.namespace), f.id);
  // The holder (or a terminal's monitor), if alive, records the exit of the init the delete killed.
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
    else if (f.action === 'worker') await workerMain(f);
    else throw new Error(`unknown action ${JSON.stringify(f.action)}: expected start or delete`);
  } catch (e) {
    process.stderr.write(`containerd-shim-rocker-v2: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

void main(process.argv.slice(2));
