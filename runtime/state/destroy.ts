// Tearing a container down: kill what is left of it, remove its cgroups and
// its state dir. Used by delete and by every failed create, so a failure at
// any point (or a runtime killed mid-create) leaves nothing behind.
import { readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { initAlive } from './status.js';
import { tryRmdir } from '../cgroups/cgfs.js';
import { cgroupsModule, loadCgroups } from './cgroups.js';
import { detachHostMounts } from './host-mounts.js';
import { salvageState, type ContainerState } from './state-file.js';
import type { ContainerDir } from './container-dir.js';

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * SIGKILLs the init and every process in the container's cgroup, then removes
 * the cgroup (the manager waits briefly for killed tasks to leave it). A task
 * forked while this ran is caught by the next round.
 */
export async function killAndRemoveCgroups(st: ContainerState): Promise<void> {
  if (st.sharedCgroup) return releaseSharedCgroups(st);
  if (initAlive(st)) signal(st.pid, 'SIGKILL');
  else if (removeEmptyCgroups(st.cgroupPaths)) return;
  const cg = await loadCgroups(st.cgroupPaths);
  if (!cg) return;
  for (let round = 1; ; round++) {
    for (const pid of await cg.pids().catch(() => [] as number[])) signal(pid, 'SIGKILL');
    try {
      await cg.destroy();
      return;
    } catch (e) {
      if (round === 3) throw e;
    }
  }
}

/**
 * A cgroup that already had other processes at create (runc warns and goes on): only
 * the init is killed, and each cgroup is removed once it is empty, else left to its others.
 */
async function releaseSharedCgroups(st: ContainerState): Promise<void> {
  if (initAlive(st)) signal(st.pid, 'SIGKILL');
  for (let waited = 0; waited < 40 && initAlive(st); waited++) await sleep(25);
  for (const dir of new Set(Object.values(st.cgroupPaths))) tryRmdir(dir);
}

/**
 * The usual delete: the init is gone and its cgroups are empty leaves, so one
 * rmdir each does it without loading the cgroup manager. The kernel refuses a
 * cgroup that still has tasks or children (false: the manager takes over).
 */
function removeEmptyCgroups(paths: Record<string, string>): boolean {
  try {
    return [...new Set(Object.values(paths))].every((dir) => !tryRmdir(dir));
  } catch {
    return false; // any other error: the manager's teardown reports it
  }
}

/** The dir holds plain files (state.json, exec.fifo): unlinked directly, without fs's recursive rm machinery. */
export function removeStateDir(cd: ContainerDir): void {
  try {
    for (const name of readdirSync(cd.dir)) unlinkSync(join(cd.dir, name));
    rmdirSync(cd.dir);
  } catch {
    // Gone already, something unexpected inside, or a file created meanwhile.
    rmSync(cd.dir, { recursive: true, force: true });
  }
}

/**
 * The cgroups a create recorded before making them (see ContainerState.newCgroupPaths):
 * removed only when empty. A populated one is not this container's: create refused it.
 */
function removeNewCgroups(st: ContainerState): void {
  const recorded = new Set(Object.values(st.cgroupPaths));
  for (const dir of new Set(Object.values(st.newCgroupPaths ?? {}))) if (!recorded.has(dir)) tryRmdir(dir);
}

/**
 * Lifecycle steps 12 and 13: destroy what create made, then run the poststop
 * hooks, whose failures are only warnings.
 */
export async function teardown(cd: ContainerDir, st: ContainerState, warn: (msg: string) => void): Promise<void> {
  await killAndRemoveCgroups(st);
  removeNewCgroups(st);
  detachHostMounts(st, warn);
  const poststop = st.config.hooks?.poststop;
  if (poststop?.length) {
    const { runHooks } = await import('../hooks/run-hooks.js');
    const { ociState } = await import('./oci-state.js');
    await runHooks('poststop', poststop, ociState(st, 'stopped'), warn);
  }
  removeStateDir(cd);
}

/**
 * `delete --force` of a container whose state.json is broken: the init it still
 * names (only if pid and start time both survived), the cgroups it still names,
 * and the cgroups its id (and config, if kept) places it in, all swept and removed.
 */
export async function teardownBroken(
  cd: ContainerDir,
  salvage: Record<string, unknown>,
  systemd: boolean,
  warn: (msg: string) => void,
): Promise<void> {
  const st = salvageState(cd.id, salvage);
  try {
    const placed = (await cgroupsModule()).cgroupPaths({ id: cd.id, cgroupsPath: st.config.linux?.cgroupsPath, systemd });
    await killAndRemoveCgroups({ ...st, pid: 0, cgroupPaths: placed });
  } catch (e) {
    warn(`cgroups of ${cd.id}: ${(e as Error).message}`);
  }
  await teardown(cd, st, warn);
}
