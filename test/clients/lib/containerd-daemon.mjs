// A private containerd for one suite: its own config, root, state and socket in a
// temp dir, started in the background and torn down with everything it made.
// With `cri`, its CRI plugin serves host-network pods (no CNI) with the given runtime
// handlers, each runc-shim handler keeping its runtime's state under the temp dir.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, watch, rmSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { run, runOk, startBackground, runWithPty } from './proc.mjs';
import { unmountUnder, pidsWithCmdline, killPids, listeningSockets, removeCgroupTree, rmdirQuiet } from './cleanup.mjs';

const START_TIMEOUT_MS = 30_000;
// Where the runc v2 shim points every runtime's --root: /run/containerd/runc/<namespace>.
export const SHIM_RUNTIME_ROOT = '/run/containerd/runc';
// containerd-shim-rocker-v2's runtime root per namespace (shim/main.ts); CRI's k8s.io one is
// shared with other daemons, and its containers' dirs go with their deletion.
export const ROCKER_SHIM_ROOT = '/run/containerd/rocker';
// Where containerd-shim-rocker-v2 makes its console sockets (shim/task-service.ts).
const ROCKER_SHIM_CONSOLE_SOCKETS = '/run/rocker-shim';
// The namespace the CRI plugin keeps its pods, containers and images in.
export const CRI_NAMESPACE = 'k8s.io';
export const RUNC_SHIM = 'io.containerd.runc.v2';
// rocker's own shim: containerd runs containerd-shim-rocker-v2, found on its PATH.
export const ROCKER_SHIM = 'io.containerd.rocker.v2';
// containerd finds a shim by runtime type on its PATH: the repo's bin/ is appended to
// it so that a shim built there (containerd-shim-rocker-v2) is found, shadowing nothing.
const REPO_BIN = fileURLToPath(new URL('../../../bin', import.meta.url));

export class ContainerdDaemon {
  /** @param {string} dir @param {import('node:child_process').ChildProcess} child */
  constructor(dir, child, cri) {
    this.dir = dir;
    this.child = child;
    this.cri = cri;
    this.socket = join(dir, 'containerd.sock');
    this.logFile = join(dir, 'containerd.log');
    this.namespaces = new Set();
  }

  /**
   * @param {{cri?: CriConfig}} [options] without cri, the CRI plugin is disabled (ctr
   *   needs none of it).
   * @typedef {{name: string, type: string, binary?: string}} CriHandler a runtime
   *   handler: its shim's runtime type and, for the runc shim, the runtime binary
   * @typedef {{sandboxImage: string, handlers: CriHandler[]}} CriConfig
   */
  static async start({ cri } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'rocker-clients-containerd-'));
    const config = join(dir, 'config.toml');
    writeFileSync(config, [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      ...(cri ? criConfig(dir, cri) : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
      '[grpc]',
      `  address = "${dir}/containerd.sock"`,
      '[ttrpc]',
      `  address = "${dir}/containerd.sock.ttrpc"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${dir}/opt"`,
      '',
    ].join('\n'));
    const daemon = new ContainerdDaemon(dir, spawnContainerd(dir), cri);
    try {
      await daemon.#waitForSocket();
      await runOk('ctr', ['--address', daemon.socket, 'version']);
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    return daemon;
  }

  /** Stops containerd (SIGTERM: its shims and tasks stay) and starts it again on the same root and state. */
  async restart() {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
    // Waited for below: the new daemon's, not one left by the old.
    rmSync(this.socket, { force: true });
    this.child = spawnContainerd(this.dir);
    await this.#waitForSocket();
  }

  // containerd creates its socket once the gRPC server listens; watch the dir for it.
  #waitForSocket() {
    return new Promise((resolve, reject) => {
      const watcher = watch(this.dir);
      const done = (err) => {
        watcher.close();
        clearTimeout(timer);
        this.child.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      const onExit = (code, signal) => done(new Error(`containerd exited (${code ?? signal}) before listening:\n${this.log()}`));
      const timer = setTimeout(() => done(new Error(`containerd did not create ${this.socket} within ${START_TIMEOUT_MS} ms:\n${this.log()}`)), START_TIMEOUT_MS);
      this.child.on('exit', onExit);
      watcher.on('change', () => {
        if (existsSync(this.socket)) done();
      });
      if (existsSync(this.socket)) done();
    });
  }

  log() {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * The argv of ctr against this daemon in namespace ns (registered for cleanup). The
   * stdio fifos of what it runs go to this daemon's dir, not /run/containerd/fifo, where
   * a detached task's would outlive the run.
   */
  ctrArgv(ns, args) {
    this.namespaces.add(ns);
    const at = args[0] === 'run' ? 1 : ['task', 't'].includes(args[0]) && ['exec', 'start'].includes(args[1]) ? 2 : 0;
    const flags = at ? [...args.slice(0, at), '--fifo-dir', join(this.dir, 'fifo'), ...args.slice(at)] : args;
    return ['ctr', '--address', this.socket, '-n', ns, ...flags];
  }

  /** ctr helpers bound to namespace ns: run, runOk, startBackground and under a pty. */
  client(ns) {
    const argv = (args) => this.ctrArgv(ns, args).slice(1);
    return {
      run: (args, opts) => run('ctr', argv(args), opts),
      ok: (args, opts) => runOk('ctr', argv(args), opts),
      background: (args, opts) => startBackground('ctr', argv(args), opts),
      pty: (args, opts) => runWithPty(this.ctrArgv(ns, args), opts),
    };
  }

  /**
   * Kills and deletes every task and container of ns, so the shims exit and the runtime
   * removes its state and cgroups (images and snapshots go with the daemon's root).
   */
  async purgeNamespace(ns) {
    const ctr = this.client(ns).run;
    const tasks = await ctr(['task', 'ls', '-q']);
    for (const id of tasks.stdout.split('\n').filter(Boolean)) {
      // A frozen task would hold SIGKILL until thawed; resuming a running one just fails.
      await ctr(['task', 'resume', id]);
      await ctr(['task', 'kill', '-a', '-s', '9', id]);
      await ctr(['task', 'delete', '-f', id]);
    }
    const containers = await ctr(['container', 'ls', '-q']);
    for (const id of containers.stdout.split('\n').filter(Boolean)) await ctr(['container', 'delete', id]);
  }

  /** Where the runc-shim CRI handlers' runtimes keep state: every runtime call names it. */
  get runtimeRoots() {
    return runtimeRootsOf(this.dir);
  }

  /** Where a runc-shim CRI handler's runtime keeps its containers' state dirs. */
  runtimeRoot(handler) {
    return join(this.runtimeRoots, handler, CRI_NAMESPACE);
  }

  async stop() {
    // CRI's namespace has no global runtime root or cgroup of its own to remove.
    const purged = this.cri ? [...this.namespaces, CRI_NAMESPACE] : this.namespaces;
    for (const ns of purged) {
      if (this.child.exitCode === null) await this.purgeNamespace(ns).catch(() => {});
    }
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    // Shims outlive containerd by design; any still serving our socket are ours, and so are their sockets.
    const shims = pidsWithCmdline(this.socket);
    const sockets = listeningSockets(shims);
    killPids(shims);
    for (const path of sockets) rmSync(path, { force: true });
    // What a failed test left without a shim (the rocker shim's monitors): their argv names a path in our dir.
    killPids(pidsWithCmdline(this.dir));
    for (const ns of this.namespaces) {
      if (ns === CRI_NAMESPACE) {
        await removeSharedRoots(ns);
        continue;
      }
      await removeCgroupTree(`/${ns}`);
      rmSync(join(SHIM_RUNTIME_ROOT, ns), { recursive: true, force: true });
      rmSync(join(ROCKER_SHIM_ROOT, ns), { recursive: true, force: true });
    }
    for (const d of [SHIM_RUNTIME_ROOT, ROCKER_SHIM_ROOT, '/run/containerd/s', '/run/containerd/fifo', '/run/containerd', ROCKER_SHIM_CONSOLE_SOCKETS]) rmdirQuiet(d);
    await unmountUnder(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const runtimeRootsOf = (dir) => join(dir, 'runtime');

/** containerd on dir's config.toml, logging to dir/containerd.log. */
function spawnContainerd(dir) {
  const log = openSync(join(dir, 'containerd.log'), 'a');
  const env = { ...process.env, PATH: `${process.env.PATH}:${REPO_BIN}` };
  const child = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', log, log], env });
  closeSync(log);
  return child;
}

/**
 * The CRI's namespace is every CRI daemon's on this host (another test run's, a bench's):
 * what this daemon made there went with its purge, so its runtime roots are removed only
 * when nothing of another daemon is left in them — the runc shim's when empty, the rocker
 * shim's when it holds only the shim's and the runtime's own files and no process names it.
 */
async function removeSharedRoots(ns) {
  rmdirQuiet(join(SHIM_RUNTIME_ROOT, ns));
  const rocker = join(ROCKER_SHIM_ROOT, ns);
  let names = [];
  try {
    names = readdirSync(rocker);
  } catch {
    return;
  }
  // Anything but the shim's own files and the runtime's lock (@lock) is a task record or a container's state.
  if (names.some((n) => !n.startsWith('shim.') && n !== '@lock')) return;
  // Our holder, SIGKILLed a moment ago, may not be gone yet.
  for (let i = 0; pidsWithCmdline(rocker).length > 0; i++) {
    if (i === 40) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(rocker, { recursive: true, force: true });
}

/** The CRI plugin's section of the config: no CNI (conf dir empty), a stream server on a free port. */
function criConfig(dir, { sandboxImage, handlers }) {
  mkdirSync(join(dir, 'cni'));
  const cri = '[plugins."io.containerd.grpc.v1.cri"]';
  const runtimes = `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes`;
  return [
    cri,
    `  sandbox_image = "${sandboxImage}"`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    // Sandboxes ask for -998; lowering the score needs CAP_SYS_RESOURCE, which this host may withhold.
    '  restrict_oom_score_adj = true',
    `${cri.slice(0, -1)}.cni]`,
    `  conf_dir = "${dir}/cni"`,
    `${cri.slice(0, -1)}.containerd]`,
    `  default_runtime_name = "${handlers[0].name}"`,
    ...handlers.flatMap(({ name, type, binary }) => [
      `${runtimes}.${name}]`,
      `  runtime_type = "${type}"`,
      ...(type === RUNC_SHIM ? [`${runtimes}.${name}.options]`, `  BinaryName = "${binary}"`, `  Root = "${join(runtimeRootsOf(dir), name)}"`] : []),
    ]),
  ];
}
