// state.json: everything later commands need about one container. It is
// written whole to a temporary name and renamed, so a reader never sees half.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { NotFoundError, SystemError } from '../errors.js';
import type { OciConfig } from '../spec/types.js';
import type { ContainerDir } from './container-dir.js';

export interface ContainerState {
  id: string;
  /** Host pid of the container init; 0 until nsexec reported it. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the init was created. */
  pidStartTime: number;
  bundle: string;
  /** Absolute rootfs path. */
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  owner: string;
  /** Host cgroup paths by controller, as CgroupManager.paths reports them. */
  cgroupPaths: Record<string, string>;
  /** The validated config.json (exec bases its process on it; delete runs its poststop hooks). */
  config: OciConfig;
}

export function readState(cd: ContainerDir): ContainerState {
  let text: string;
  try {
    text = readFileSync(cd.stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(cd.id);
    throw new SystemError('read', cd.stateFile, e as Error);
  }
  return JSON.parse(text) as ContainerState;
}

export function writeState(cd: ContainerDir, st: ContainerState): void {
  const tmp = `${cd.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(st), { mode: 0o600 });
  renameSync(tmp, cd.stateFile);
}
