// Lazy access to the cgroup managers: only the commands and states that
// touch cgroups pay for loading runtime/cgroups.
import type { CgroupManager } from '../cgroups/manager.js';

export function cgroupsModule(): Promise<typeof import('../cgroups/index.js')> {
  return import('../cgroups/index.js');
}

export async function loadCgroups(paths: Record<string, string>): Promise<CgroupManager | undefined> {
  if (Object.keys(paths).length === 0) return undefined;
  return (await cgroupsModule()).loadCgroupManager(paths);
}
