// containerd's task service (containerd.task.v2.Task) for every container of the
// namespace, run by the shim's Node worker. The container work is the runtime's own
// code, in-process: launch/create, start, exec, kill, delete and the cgroup operations,
// the same functions rocker-runtime's verbs call. The init's stdio are containerd's
// fifos; the holder (shim/holder/) is its subreaper and records its exit in
// <bundle>/rocker-exit.json, which this worker watches. A terminal's init runs under
// its own rocker-monitor (front/monitor/), which relays the terminal and records the
// exit the same way. Exec processes stay children of a foreground nsexec here, which
// reports their exit on its socket (so the worker stays while any is known). Each
// container is recorded (shim/task-record.ts): the worker ends when idle and the next
// one carries on from the records.
import { existsSync, mkdirSync, openSync, closeSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createContainer } from '../runtime/launch/create.js';
import { startContainer } from '../runtime/launch/start.js';
import { startExec } from '../runtime/launch/exec.js';
import { killContainer } from '../runtime/launch/kill.js';
import { deleteContainer } from '../runtime/launch/delete.js';
import { parseResources, updateContainer } from '../runtime/launch/update.js';
import { NsexecChannel } from '../runtime/launch/channel.js';
import { containerCgroup, pauseContainer, resumeContainer } from '../runtime/cgroups/container.js';
import { oomKillCount } from '../runtime/cgroups/stats.js';
import { containerDir } from '../runtime/state/container-dir.js';
import { readState } from '../runtime/state/state-file.js';
import { deriveStatus } from '../runtime/state/status.js';
import { NotFoundError, StateConflictError, UsageError, SpecError } from '../runtime/errors.js';
import type { OciProcess } from '../runtime/spec/types.js';
import type { Logger } from '../runtime/log/logger.js';
import { Code, Parked, RpcError, type Handler } from './ttrpc.js';
import { any, encode, timestamp, type Msg } from './proto.js';
import { mountRootfs, unmountRootfs, type Mount } from './rootfs.js';
import { cgroupMetrics } from './metrics.js';
import { resizeTerminal } from '../front/monitor/control.js';
import { CONTROL_FIFO, DELETED_MARKER, EXIT_FILE, INIT_PID_FILE, readExit } from './files.js';
import type { Publisher } from './events.js';
import { loadTasks, removeTask, saveTask, type TaskRecord } from './task-record.js';

const MONITOR = fileURLToPath(new URL('../rocker-monitor', import.meta.url));
/** Console sockets: a path must fit in 108 bytes, which a bundle path may not leave room for. */
const SOCKET_DIR = '/run/rocker-shim';

/** containerd.v1.types.Status */
const STATUS = { created: 1, running: 2, stopped: 3, paused: 4 } as const;

interface Proc {
  execId: string;
  pid: number;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  started: boolean;
  exit?: { status: number; at: Date };
}

interface ExecProc extends Proc {
  spec: OciProcess;
  /** Sizes the terminal its nsexec relays, once started. */
  resize?: (rows: number, cols: number) => void;
}

interface Container {
  id: string;
  bundle: string;
  init: Proc;
  execs: Map<string, ExecProc>;
  mounted: boolean;
  watcher?: FSWatcher;
  /** The container's cgroup paths, whose OOM kill count is read when the init exits. */
  cgroupPaths: Record<string, string>;
  /** Its TaskExit was published. */
  exitTold: boolean;
}

/** What the worker needs of the holder (shim/holder-channel.ts). */
export interface Holder {
  /** Answers the Waits parked under `key` with `response`, a ttrpc.Response. */
  release(key: string, response: Msg): void;
  /** The holder reaps `pid` (an init without a monitor) and records its exit in `exitFile`. */
  watch(pid: number, exitFile: string): void;
}

/** The key under which a process's Waits are parked in the holder. */
const waitKey = (id: string, execId: string): string => `${id}/${execId}`;

/**
 * A blocking read end of a stdin fifo, without waiting for a writer: a plain open
 * would wait (in a pool thread, forever if containerd's client gave up). With our
 * read-write end held meanwhile the open returns at once; the client's writer, whose
 * open is pending since before the Exec call, already counts. If there is none,
 * the process reads EOF, as it should.
 */
function openStdinFifo(path: string): number {
  const held = openSync(path, 'r+');
  try {
    return openSync(path, 'r');
  } finally {
    closeSync(held);
  }
}

/** The runtime's errors in containerd's terms (errdefs reads the status code). */
function rpcError(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof NotFoundError) return new RpcError(Code.NotFound, msg);
  if (e instanceof StateConflictError) {
    return msg === 'container not running' ? new RpcError(Code.NotFound, 'process already finished: not found') : new RpcError(Code.FailedPrecondition, msg);
  }
  if (e instanceof UsageError || e instanceof SpecError) return new RpcError(Code.InvalidArgument, msg);
  return new RpcError(Code.Unknown, msg);
}

/** A process as a Create or Exec request describes it (its stdio fifos, a terminal or not). */
function newProc(execId: string, r: Msg): Proc {
  return {
    execId,
    pid: 0,
    stdin: String(r.stdin ?? ''),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    terminal: Boolean(r.terminal),
    started: false,
  };
}

function recordOf(address: string, c: Container): TaskRecord {
  const { stdin, stdout, stderr, terminal, pid, started } = c.init;
  return { address, id: c.id, bundle: c.bundle, stdin, stdout, stderr, terminal, pid, started, mounted: c.mounted, cgroupPaths: c.cgroupPaths, exitTold: c.exitTold };
}

export class TaskService {
  private readonly containers = new Map<string, Container>();

  constructor(
    private readonly namespace: string,
    /** The containerd served (its address). */
    private readonly address: string,
    /** The runtime's --root for this namespace. */
    private readonly root: string,
    private readonly events: Publisher,
    private readonly logger: Logger,
    private readonly holder: Holder,
  ) {}

  get size(): number {
    return this.containers.size;
  }

  /** An exec process is known (running, or exited and not yet deleted): this worker must stay. */
  get hasExecs(): boolean {
    for (const c of this.containers.values()) if (c.execs.size > 0) return true;
    return false;
  }

  /** Takes over the containers an earlier worker recorded, publishing exits it did not see. */
  recover(): void {
    for (const rec of loadTasks(this.root, this.address)) {
      const init: Proc = { execId: '', pid: rec.pid, stdin: rec.stdin, stdout: rec.stdout, stderr: rec.stderr, terminal: rec.terminal, started: rec.started };
      const c: Container = { id: rec.id, bundle: rec.bundle, init, execs: new Map(), mounted: rec.mounted, cgroupPaths: rec.cgroupPaths, exitTold: rec.exitTold };
      this.containers.set(c.id, c);
      try {
        c.watcher = watch(c.bundle, () => this.checkExit(c));
      } catch {
        // no bundle: containerd removed it; its record waits for Delete
      }
      this.checkExit(c);
    }
  }

  private save(c: Container): void {
    saveTask(this.root, recordOf(this.address, c));
  }

  private finish(c: Container, p: Proc, status: number, at: Date): void {
    if (p.exit) return;
    p.exit = { status, at };
    this.holder.release(waitKey(c.id, p.execId), { payload: encode('containerd.task.v2.WaitResponse', { exitStatus: status, exitedAt: timestamp(at) }) });
  }

  private container(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new RpcError(Code.NotFound, `container ${id}: not found`);
    return c;
  }

  private proc(c: Container, execId: string): Proc {
    if (!execId) return c.init;
    const p = c.execs.get(execId);
    if (!p) throw new RpcError(Code.NotFound, `process ${execId} of ${c.id}: not found`);
    return p;
  }

  private publish(event: Parameters<Publisher['publish']>[1], body: Msg): void {
    this.events.publish(this.namespace, event, body);
  }

  /** Every method, errors mapped; the server decodes and encodes around them. */
  handlers(): Record<string, Handler> {
    const methods: Record<string, (req: Msg) => Promise<Msg>> = {
      Create: (r) => this.create(r),
      Start: (r) => this.start(r),
      Delete: (r) => this.delete(r),
      Exec: (r) => this.exec(r),
      State: (r) => this.state(r),
      Wait: (r) => this.wait(r),
      Kill: (r) => this.kill(r),
      Pause: (r) => this.pause(r),
      Resume: (r) => this.resume(r),
      Pids: (r) => this.pids(r),
      Stats: (r) => this.stats(r),
      Connect: (r) => this.connect(r),
      Shutdown: () => this.shutdown(),
      ResizePty: (r) => this.resizePty(r),
      CloseIO: (r) => this.closeIO(r),
      Update: (r) => this.update(r),
      Checkpoint: () => Promise.reject(new RpcError(Code.Unimplemented, 'checkpoint is not supported by rocker')),
    };
    return Object.fromEntries(
      Object.entries(methods).map(([name, fn]) => [
        name,
        async (req: Msg) => {
          try {
            return await fn(req);
          } catch (e) {
            throw e instanceof Parked ? e : rpcError(e);
          }
        },
      ]),
    );
  }

  private async create(r: Msg): Promise<Msg> {
    const id = String(r.id);
    const bundle = String(r.bundle);
    if (this.containers.has(id)) throw new RpcError(Code.AlreadyExists, `container ${id}: already exists`);
    if (r.checkpoint) throw new RpcError(Code.Unimplemented, 'restore from a checkpoint is not supported by rocker');
    const init = newProc('', r);
    const c: Container = { id, bundle, init, execs: new Map(), mounted: false, cgroupPaths: {}, exitTold: false };
    // Reserved now: a second Create of the id while this one works is refused.
    this.containers.set(id, c);
    const pidFile = join(bundle, INIT_PID_FILE);
    const exitFile = join(bundle, EXIT_FILE);
    let consoleSocket: string | undefined;
    let stdio: [number, number, number] | undefined;
    try {
      const mounts = (r.rootfs as Mount[] | undefined) ?? [];
      if (mounts.length) {
        await mountRootfs(bundle, mounts);
        c.mounted = true;
      }
      if (init.terminal) {
        mkdirSync(SOCKET_DIR, { recursive: true, mode: 0o700 });
        consoleSocket = join(SOCKET_DIR, `${randomBytes(8).toString('hex')}.console`);
      }
      let launch;
      if (consoleSocket) {
        // A terminal is relayed by a monitor. nsexec's socket is its fd 3 (no preserved fds); the monitor keeps no copy of it.
        const via = [MONITOR, '--pid-file', pidFile, '--exit-file', exitFile, '--await-pid-file', '--pass-fd', '3'];
        if (init.stdin) via.push('--stdin-fifo', init.stdin);
        if (init.stdout) via.push('--stdout-fifo', init.stdout);
        via.push('--console-socket', consoleSocket, '--control-fifo', join(bundle, CONTROL_FIFO), '--');
        launch = { via };
      } else {
        // containerd's fifos are the init's own stdio: nothing copies them.
        stdio = this.stdio(init);
        launch = { stdio };
      }
      // The exit file is watched before the init can exist, so no exit is missed.
      c.watcher = watch(bundle, () => this.checkExit(c));
      const created = await createContainer({
        root: this.root,
        id,
        bundle,
        pidFile,
        consoleSocket,
        noPivot: false,
        noNewKeyring: false,
        preserveFds: 0,
        systemdCgroup: false,
        foreground: false,
        startRightAway: false,
        logger: this.logger,
        launch,
      });
      created.channel.close();
      init.pid = created.state.pid;
      c.cgroupPaths = created.state.cgroupPaths;
      // The holder reaps it: its subreaper, once nsexec has let it go.
      if (!consoleSocket) this.holder.watch(init.pid, exitFile);
      this.save(c);
    } catch (e) {
      // An empty pid file tells a waiting monitor that no init is coming.
      if (consoleSocket && !existsSync(pidFile)) writeFileSync(pidFile, '');
      c.watcher?.close();
      if (c.mounted) await unmountRootfs(bundle);
      this.containers.delete(id);
      throw e;
    } finally {
      // nsexec has its copies (the spawn is synchronous).
      for (const fd of new Set(stdio)) closeSync(fd);
    }
    this.publish('TaskCreate', {
      containerId: id,
      bundle,
      rootfs: r.rootfs,
      io: { stdin: init.stdin, stdout: init.stdout, stderr: init.stderr, terminal: init.terminal },
      pid: init.pid,
    });
    this.checkExit(c);
    return { pid: init.pid };
  }

  private oomKills(c: Container): number {
    try {
      return oomKillCount(c.cgroupPaths);
    } catch {
      return 0; // no memory controller, or the cgroup is gone
    }
  }

  private checkExit(c: Container): void {
    if (c.init.exit) return;
    const rec = readExit(c.bundle);
    if (!rec) return;
    c.watcher?.close();
    c.watcher = undefined;
    // An OOM kill is told before the exit it caused (the CRI reports it as the reason). Read
    // at the exit rather than watched: a v1 watch costs a helper process per container.
    if (this.oomKills(c) > 0) this.publish('TaskOOM', { containerId: c.id });
    const at = new Date(rec.exitedAt);
    this.finish(c, c.init, rec.exitCode, at);
    if (c.exitTold) return;
    c.exitTold = true;
    this.publish('TaskExit', { containerId: c.id, id: c.id, pid: c.init.pid, exitStatus: rec.exitCode, exitedAt: timestamp(at) });
    this.save(c);
  }

  private async start(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const execId = String(r.execId ?? '');
    if (!execId) {
      await startContainer(this.root, c.id, this.logger);
      c.init.started = true;
      this.save(c);
      this.publish('TaskStart', { containerId: c.id, pid: c.init.pid });
      return { pid: c.init.pid };
    }
    const p = this.proc(c, execId) as ExecProc;
    if (p.started) throw new RpcError(Code.FailedPrecondition, `process ${execId} already started`);
    p.started = true;
    const fds = this.stdio(p);
    const channel = NsexecChannel.spawn(0, { stdio: fds });
    // nsexec has its copies (the spawn is synchronous).
    for (const fd of new Set(fds)) closeSync(fd);
    try {
      const cd = containerDir(this.root, c.id);
      const started = await startExec(
        { channel, cd, state: readState(cd), process: p.spec, detach: false, preserveFds: 0, ignorePaused: false, subCgroups: {} },
        null,
        Boolean(p.spec.terminal),
        true,
      );
      p.pid = started.pid;
      p.resize = started.resize;
      started.exited!.then(
        (status) => this.execExited(c, p, status),
        () => this.execExited(c, p, 255),
      );
    } catch (e) {
      channel.abort();
      this.finish(c, p, 255, new Date());
      throw e;
    }
    this.publish('TaskExecStarted', { containerId: c.id, execId, pid: p.pid });
    return { pid: p.pid };
  }

  private execExited(c: Container, p: ExecProc, status: number): void {
    const at = new Date();
    this.finish(c, p, status, at);
    this.publish('TaskExit', { containerId: c.id, id: p.execId, pid: p.pid, exitStatus: status, exitedAt: timestamp(at) });
  }

  /** A process's fds 0-2: containerd's fifos (the output ones read-write, so no reader is needed), else /dev/null. */
  private stdio(p: Proc): [number, number, number] {
    const out = openSync(p.stdout || '/dev/null', 'r+');
    const err = p.stderr && !p.terminal ? openSync(p.stderr, 'r+') : out;
    return [p.stdin ? openStdinFifo(p.stdin) : openSync('/dev/null', 'r'), out, err];
  }

  private async exec(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const execId = String(r.execId);
    if (c.execs.has(execId)) throw new RpcError(Code.AlreadyExists, `process ${execId}: already exists`);
    const spec = r.spec as { value?: Uint8Array } | undefined;
    let proc: OciProcess;
    try {
      proc = JSON.parse(Buffer.from(spec?.value ?? []).toString('utf8')) as OciProcess;
    } catch {
      throw new RpcError(Code.InvalidArgument, `process ${execId}: the spec is not an OCI process`);
    }
    proc.terminal = Boolean(r.terminal);
    c.execs.set(execId, { ...newProc(execId, r), spec: proc });
    this.publish('TaskExecAdded', { containerId: c.id, execId });
    return {};
  }

  private async state(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const p = this.proc(c, String(r.execId ?? ''));
    let status: number = p.exit ? STATUS.stopped : p.started ? STATUS.running : STATUS.created;
    if (!p.exit && p === c.init) {
      const cd = containerDir(this.root, c.id);
      const st = deriveStatus(cd, readState(cd));
      status = st === 'creating' ? STATUS.created : STATUS[st];
    }
    return {
      id: p.execId || c.id,
      bundle: c.bundle,
      pid: p.pid,
      status,
      stdin: p.stdin,
      stdout: p.stdout,
      stderr: p.stderr,
      terminal: p.terminal,
      exitStatus: p.exit?.status ?? 0,
      exitedAt: p.exit ? timestamp(p.exit.at) : undefined,
      execId: p.execId,
    };
  }

  private async wait(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const p = this.proc(c, String(r.execId ?? ''));
    // Held by the holder until the exit: a Wait outlives this worker.
    if (!p.exit) throw new Parked(waitKey(c.id, p.execId));
    return { exitStatus: p.exit.status, exitedAt: timestamp(p.exit.at) };
  }

  private async kill(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const execId = String(r.execId ?? '');
    const signal = Number(r.signal);
    if (!execId) {
      await killContainer(this.root, c.id, signal, Boolean(r.all), this.logger);
      return {};
    }
    const p = this.proc(c, execId);
    if (!p.pid || p.exit) throw new RpcError(Code.NotFound, `process ${execId}: process already finished: not found`);
    process.kill(p.pid, signal);
    return {};
  }

  private async delete(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const execId = String(r.execId ?? '');
    const p = this.proc(c, execId);
    if (execId) {
      if (p.started && !p.exit) throw new RpcError(Code.FailedPrecondition, `cannot delete running process ${execId}`);
      c.execs.delete(execId);
      return { pid: p.pid, exitStatus: p.exit?.status ?? 0, exitedAt: timestamp(p.exit?.at ?? new Date()) };
    }
    const cd = containerDir(this.root, c.id);
    const status = existsSync(cd.stateFile) ? deriveStatus(cd, readState(cd)) : 'stopped';
    if (status === 'running' || status === 'paused') throw new RpcError(Code.FailedPrecondition, `cannot delete container ${c.id} that is ${status}`);
    // A created init that never started is killed (runc's delete lets it go the same way).
    await deleteContainer(this.root, c.id, true, false, this.logger);
    if (c.mounted) await unmountRootfs(c.bundle);
    // Its exit file, if the monitor had not written it yet, arrives with the kill.
    this.checkExit(c);
    c.watcher?.close();
    const exit = c.init.exit ?? { status: 137, at: new Date() };
    this.finish(c, c.init, exit.status, exit.at);
    this.containers.delete(c.id);
    removeTask(this.root, c.id);
    rmSync(join(c.bundle, INIT_PID_FILE), { force: true });
    writeFileSync(join(c.bundle, DELETED_MARKER), '');
    this.publish('TaskDelete', { containerId: c.id, pid: c.init.pid, exitStatus: exit.status, exitedAt: timestamp(exit.at), id: c.id });
    return { pid: c.init.pid, exitStatus: exit.status, exitedAt: timestamp(exit.at) };
  }

  /** New resource limits: a LinuxResources JSON document (containerd's typeurl of runtime-spec types is JSON). */
  private async update(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const any = r.resources as { value?: Uint8Array } | undefined;
    const resources = parseResources(Buffer.from(any?.value ?? []).toString('utf8') || '{}', 'UpdateTaskRequest.resources');
    await updateContainer(this.root, c.id, resources, { file: 'UpdateTaskRequest.resources', prefix: '' }, (m) => this.logger.warn(m));
    return {};
  }

  private async pause(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    await pauseContainer(this.root, c.id);
    this.publish('TaskPaused', { containerId: c.id });
    return {};
  }

  private async resume(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    await resumeContainer(this.root, c.id);
    this.publish('TaskResumed', { containerId: c.id });
    return {};
  }

  private async pids(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const cg = await containerCgroup(this.root, c.id);
    // An exec's row names it, as the runc shim's do (`ctr task ps` prints it).
    const execOf = new Map([...c.execs.values()].filter((p) => p.pid && !p.exit).map((p) => [p.pid, p.execId]));
    return {
      processes: (await cg.cg.pids()).map((pid) => {
        const execId = execOf.get(pid);
        return execId ? { pid, info: any('containerd.runc.v1.ProcessDetails', { execId }) } : { pid };
      }),
    };
  }

  private async stats(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const cg = await containerCgroup(this.root, c.id);
    return { stats: await cgroupMetrics(cg.cg) };
  }

  private async connect(r: Msg): Promise<Msg> {
    const c = this.containers.get(String(r.id));
    // The shim is the holder, which outlives this worker.
    return { shimPid: process.ppid, taskPid: c?.init.pid ?? 0 };
  }

  private async shutdown(): Promise<Msg> {
    // One shim serves many containers: it goes when the last one has and containerd is
    // quiet (shim/main.ts tells the holder).
    return {};
  }

  private async resizePty(r: Msg): Promise<Msg> {
    const c = this.container(String(r.id));
    const p = this.proc(c, String(r.execId ?? ''));
    if (!p.terminal || p.exit) return {};
    // An exec's terminal is relayed by its nsexec (before Start there is none: the size
    // is dropped, as runc's shim does). The init's terminal master is its monitor's,
    // sized through its control fifo.
    if (p !== c.init) (p as ExecProc).resize?.(Number(r.height), Number(r.width));
    else resizeTerminal(join(c.bundle, CONTROL_FIFO), Number(r.height), Number(r.width));
    return {};
  }

  private async closeIO(r: Msg): Promise<Msg> {
    // containerd closes its end of the stdin fifo first; the monitor (init) or the
    // process itself (exec) sees the fifo's EOF, so there is nothing to do here.
    this.proc(this.container(String(r.id)), String(r.execId ?? ''));
    return {};
  }
}
