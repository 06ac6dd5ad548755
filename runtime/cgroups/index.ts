// Opening a container's cgroup manager: for a new container from its config
// (paths computed from linux.cgroupsPath; nothing is created until create()),
// or for a later command from the paths kept in state.json.
import type { CgroupRequest } from './manager.js';
import { placement, pathInHierarchy } from './cgpath.js';
import { FsCgroupManager } from './fs-manager.js';
import { hostDir, probeHost } from './host.js';
import { RockerError } from '../errors.js';
import type { Warn } from './types.js';

export type { CgroupManager, CgroupRequest, CgroupStats, LinuxResources } from './manager.js';
export type { ResourceSource } from './fs-manager.js';
export { memoryLimitRefusal } from './stats.js';

/** The host directory of the container's cgroup in every hierarchy, keyed as runc keys them ("" = cgroup2). */
export function cgroupPaths(req: CgroupRequest): Record<string, string> {
  const host = probeHost();
  const where = placement(req.id, req.cgroupsPath, req.systemd);
  const paths: Record<string, string> = {};
  const place = (key: string, mountpoint: string, root: string): string => {
    const cgPath = pathInHierarchy(where, host.own.get(key));
    const dir = hostDir(mountpoint, root, cgPath);
    if (!dir) throw new RockerError(`cgroup path ${cgPath} is outside the ${key || 'cgroup2'} mount at ${mountpoint}`);
    return dir;
  };
  for (const [key, h] of host.v1) paths[key] = place(h.controllers[0], h.mountpoint, h.root);
  if (host.unified) paths[''] = place('', host.unified.mountpoint, host.unified.root);
  return paths;
}

export async function openCgroupManager(req: CgroupRequest & { warn?: Warn }): Promise<FsCgroupManager> {
  return new FsCgroupManager(cgroupPaths(req), req.warn);
}

export function loadCgroupManager(paths: Record<string, string>, warn?: Warn): FsCgroupManager {
  return new FsCgroupManager({ ...paths }, warn);
}
