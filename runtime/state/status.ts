// Status derivation as runc does it: until create has recorded the init's pid
// the container is "creating"; then the init must be alive (pid and start
// time both match); while exec.fifo exists it waits for start ("created");
// a frozen cgroup means "paused"; otherwise "running". A dead init is "stopped".
import { existsSync } from 'node:fs';
import { isSameLiveProcess } from './proc.js';
import { loadCgroups } from './cgroups.js';
import type { ContainerDir } from './container-dir.js';
import type { ContainerState } from './state-file.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export function initAlive(st: ContainerState): boolean {
  return isSameLiveProcess(st.pid, st.pidStartTime);
}

export async function deriveStatus(cd: ContainerDir, st: ContainerState): Promise<Status> {
  if (st.pid === 0) return 'creating';
  if (!initAlive(st)) return 'stopped';
  if (existsSync(cd.execFifo)) return 'created';
  const cg = await loadCgroups(st.cgroupPaths);
  if (cg && (await cg.isFrozen())) return 'paused';
  return 'running';
}
