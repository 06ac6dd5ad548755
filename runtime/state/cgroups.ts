// Lazy access to the cgroup managers (runtime/cgroups/index.js): only the
// commands that touch cgroups pay for loading them.
import type { CgroupManager, CgroupRequest } from '../cgroups/manager.js';

export interface CgroupsModule {
  openCgroupManager(req: CgroupRequest): Promise<CgroupManager>;
  loadCgroupManager(paths: Record<string, string>): CgroupManager;
}

// A variable specifier keeps the type check independent of the cgroups branch's files.
const MODULE = '../cgroups/index.js';

export async function cgroupsModule(): Promise<CgroupsModule> {
  return (await import(MODULE)) as CgroupsModule;
}

export async function loadCgroups(paths: Record<string, string>): Promise<CgroupManager | undefined> {
  if (Object.keys(paths).length === 0) return undefined;
  return (await cgroupsModule()).loadCgroupManager(paths);
}
