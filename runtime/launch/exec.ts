// The exec operation: a new process joins every namespace and the cgroups of a
// running container. nsexec (exec mode) joins through the init's pidfd and places
// its child in the container's cgroups itself (init.cgroups), so the runtime only
// waits: init -> pid -> (running, exit) with no round trip in between. The caller
// starts nsexec first (NsexecChannel.spawn), so its start-up overlaps the runtime's.
import { join } from 'node:path';
import type { ContainerDir } from '../state/container-dir.js';
import type { ContainerState } from '../state/state-file.js';
import { deriveStatus } from '../state/status.js';
import { ociState } from '../state/oci-state.js';
import type { NsexecChannel } from './channel.js';
import { execInit } from './init-message.js';
import { writePidFile } from './pid-file.js';
import { SignalForwarder, waitForeground } from './foreground.js';
import { StateConflictError, NsexecError } from '../errors.js';
import type { OciProcess } from '../spec/types.js';
import { existingJoinTargets } from '../cgroups/join-targets.js';

export interface ExecRequest {
  /** A started nsexec waiting for `init`; the caller aborts it on failure. */
  channel: NsexecChannel;
  cd: ContainerDir;
  /** The container's state.json as the command read it. */
  state: ContainerState;
  process: OciProcess;
  detach: boolean;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
  /** --cgroup: a sub-cgroup per controller ("" for every hierarchy without its own). */
  subCgroups: Record<string, string>;
}

/** Returns the exit status of the process (0 once a detached one runs). */
export async function execInContainer(req: ExecRequest): Promise<number> {
  // The handlers go in while nsexec works; a detached exec forwards nothing.
  const signals = req.detach ? undefined : new SignalForwarder();
  try {
    const started = await startExec(req, signals ?? null, Boolean(req.process.terminal && !req.consoleSocket));
    return (await started.exited) ?? 0;
  } finally {
    signals?.stop();
  }
}

export interface StartedExec {
  pid: number;
  /** A foreground exec's exit status as a shell reports it; none for a detached one. */
  exited?: Promise<number>;
  /**
   * Sets the size of the terminal nsexec relays (`relayTerminal`, returned with
   * `untilRunning`: nsexec takes it only once the program runs). A size outside the
   * kernel's 16 bits is a UsageError.
   */
  resize?: (rows: number, cols: number) => void;
}

/**
 * Starts the process and returns once it runs: the CLI waits on `exited` with its
 * signals forwarded, the containerd shim (`signals` null) keeps it as a task's process.
 * `relayTerminal`: nsexec copies its fds 0 and 1 to and from the process's terminal.
 * `untilRunning`: a foreground exec returns only once its program was exec'd, so a
 * failure to get there (a missing binary...) is this call's error, not an exit status.
 */
export async function startExec(req: ExecRequest, signals: SignalForwarder | null, relayTerminal: boolean, untilRunning = false): Promise<StartedExec> {
  const { cd, state: st, channel } = req;
  const status = deriveStatus(cd, st);
  if (status === 'stopped') throw new StateConflictError('cannot exec in a stopped container');
  if (status === 'paused' && !req.ignorePaused) throw new StateConflictError('cannot exec in a paused container (use --ignore-paused)');
  if (status !== 'running' && status !== 'paused' && status !== 'created') throw new StateConflictError(`cannot exec in a ${status} container`);

  channel.sendInit(
    execInit({
      process: req.process,
      joinPid: st.pid,
      linux: st.config.linux,
      foreground: !req.detach,
      consoleSocket: req.consoleSocket,
      preserveFds: req.preserveFds,
      cgroups: existingJoinTargets(st.cgroupPaths, req.subCgroups),
      // A seccomp listener of the exec'd process receives the container's state.
      state: JSON.stringify(ociState(st, status)),
      // The profile is compiled by the first exec only: libseccomp needs ~10 ms for a default profile.
      ...(st.config.linux?.seccomp ? { seccompCache: join(cd.dir, 'seccomp.bpf') } : {}),
    }),
  );
  const { pid } = await channel.expect('pid');
  if (!req.detach) {
    if (req.pidFile) writePidFile(req.pidFile, pid);
    if (untilRunning) await channel.expect('running');
    const exited = waitForeground(channel, pid, relayTerminal, signals);
    return untilRunning && relayTerminal ? { pid, exited, resize: (rows, cols) => channel.resizeTerminal(rows, cols) } : { pid, exited };
  }
  // A detached exec succeeded when the socket closes with no error: execve closed the child's end.
  const ev = await channel.next();
  if (ev.type !== 'eof') throw new NsexecError('protocol', `nsexec sent ${ev.type} after a detached exec`);
  if (req.pidFile) writePidFile(req.pidFile, pid);
  return { pid };
}
