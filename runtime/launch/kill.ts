// The kill operation, shared by `kill` and the containerd shim: signal the init,
// or with `all` every process in the container's cgroup. A stopped container is an
// error ("container not running"), except for `all`, which still sweeps whatever is
// left in its cgroup (runc).
import { constants } from 'node:os';
import { containerDir } from '../state/container-dir.js';
import { readState } from '../state/state-file.js';
import { deriveStatus } from '../state/status.js';
import { loadCgroups } from '../state/cgroups.js';
import { StateConflictError, SystemError } from '../errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import type { Logger } from '../log/logger.js';

function signalPid(pid: number, signal: number): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new SystemError('kill', String(pid), e as Error);
  }
}

/**
 * Freezes the cgroup, signals every process in it, then thaws it: a process
 * cannot fork a child the sweep misses. A container that was already paused
 * stays paused unless the signal is SIGKILL (a frozen task dies only once thawed).
 */
async function signalAll(cg: CgroupManager, signal: number, logger: Logger): Promise<void> {
  const wasFrozen = await cg.isFrozen();
  // A cgroup that cannot be frozen is still swept, as runc does.
  if (!wasFrozen) await cg.freeze().catch((e: Error) => logger.warn(e.message));
  try {
    for (const pid of await cg.pids()) signalPid(pid, signal);
  } finally {
    if (!wasFrozen || signal === constants.signals.SIGKILL) await cg.thaw();
  }
}

export async function killContainer(root: string, id: string, signal: number, all: boolean, logger: Logger): Promise<void> {
  const cd = containerDir(root, id);
  const st = readState(cd);
  const status = deriveStatus(cd, st);
  // No init to signal yet (and pid 0 would signal our own process group).
  if (status === 'creating') throw new StateConflictError('container not running');
  if (all) {
    const cg = await loadCgroups(st.cgroupPaths);
    if (cg) return signalAll(cg, signal, logger);
  }
  if (status === 'stopped') throw new StateConflictError('container not running');
  signalPid(st.pid, signal);
  // As for `all`: SIGKILL reaches a paused init only once its cgroup is thawed.
  if (status === 'paused' && signal === constants.signals.SIGKILL) await (await loadCgroups(st.cgroupPaths))?.thaw();
}
