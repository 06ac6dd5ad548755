// The cgroup of an existing container, for the commands that act on it
// (update, pause, resume, ps, events): its state.json, status and manager.
import { containerDir, type ContainerDir } from '../state/container-dir.js';
import { readState, type ContainerState } from '../state/state-file.js';
import { deriveStatus, type Status } from '../state/status.js';
import { lockContainer } from '../state/lock.js';
import { StateConflictError } from '../errors.js';
import type { Warn } from './types.js';
import { loadCgroupManager } from './index.js';
import type { FsCgroupManager } from './fs-manager.js';

export interface ContainerCgroup {
  cd: ContainerDir;
  st: ContainerState;
  status: Status;
  cg: FsCgroupManager;
}

export async function containerCgroup(root: string, id: string, warn?: Warn): Promise<ContainerCgroup> {
  const cd = containerDir(root, id);
  const st = readState(cd);
  const status = await deriveStatus(cd, st);
  if (Object.keys(st.cgroupPaths ?? {}).length === 0) throw new StateConflictError(`container ${id} has no cgroup`);
  return { cd, st, status, cg: loadCgroupManager(st.cgroupPaths, warn) };
}

/** Refuses a stopped container with runc's wording. */
export function requireRunning(c: ContainerCgroup): void {
  if (c.status === 'stopped') throw new StateConflictError('container not running');
}

/** Runs `fn` on the container's cgroup while holding the container's lock. */
export async function withLockedCgroup<T>(root: string, id: string, fn: (c: ContainerCgroup) => Promise<T>, warn?: Warn): Promise<T> {
  const lock = await lockContainer(root, id);
  try {
    return await fn(await containerCgroup(root, id, warn));
  } finally {
    lock.release();
  }
}

/** pause: freezes every process of a running (or created) container. */
export function pauseContainer(root: string, id: string): Promise<void> {
  return withLockedCgroup(root, id, async (c) => {
    if (c.status !== 'running' && c.status !== 'created') throw new StateConflictError('container not running');
    await c.cg.freeze();
  });
}

/** resume: thaws a paused container. */
export function resumeContainer(root: string, id: string): Promise<void> {
  return withLockedCgroup(root, id, async (c) => {
    if (c.status !== 'paused') throw new StateConflictError('container not paused');
    await c.cg.thaw();
  });
}
