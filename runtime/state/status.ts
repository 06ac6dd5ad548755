// Status derivation as runc does it: until create has recorded the init's pid
// the container is "creating"; then the init must be alive (pid and start
// time both match); while exec.fifo exists it waits for start ("created");
// a frozen cgroup means "paused"; otherwise "running". A dead init is "stopped".
// Synchronous, and the freezer is read directly: the cgroup manager is not loaded.
import { existsSync } from 'node:fs';
import { isSameLiveProcess } from './proc.js';
import { isFrozenAt } from '../cgroups/frozen.js';
import type { ContainerDir } from './container-dir.js';
import type { ContainerState } from './state-file.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export function initAlive(st: ContainerState): boolean {
  return isSameLiveProcess(st.pid, st.pidStartTime);
}

export function deriveStatus(cd: ContainerDir, st: ContainerState): Status {
  if (st.pid === 0) return 'creating';
  if (!initAlive(st)) return 'stopped';
  if (existsSync(cd.execFifo)) return 'created';
  return isFrozenAt(st.cgroupPaths) ? 'paused' : 'running';
}
