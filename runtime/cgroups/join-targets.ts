// Where a container's new process (its init, or an exec'd one) joins: every
// recorded cgroup directory, or the sub-cgroup exec --cgroup asks for there.
// A leaf module: exec works it out from state.json without loading the manager.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RockerError, UsageError } from '../errors.js';
import type { CgroupJoinTargets } from './manager.js';

/**
 * `paths` as state.json keeps them (v1 controllers by name, "" for the cgroup2
 * directory); `subs` by controller, "" for every hierarchy without its own.
 */
export function joinTargets(paths: Record<string, string>, subs: Record<string, string> = {}): CgroupJoinTargets {
  for (const ctrl of Object.keys(subs)) {
    if (ctrl !== '' && !(ctrl in paths)) throw new UsageError(`--cgroup: unknown controller ${ctrl} in the container's cgroups`);
  }
  const v1 = new Set<string>();
  let unified: string | undefined;
  for (const [ctrl, base] of Object.entries(paths)) {
    const sub = subs[ctrl] ?? subs[''];
    const dir = sub === undefined ? base : join(base, sub);
    if (dir !== base && !dir.startsWith(`${base}/`)) throw new UsageError(`--cgroup: ${sub} is not a sub cgroup path`);
    if (ctrl === '') unified = dir;
    else v1.add(dir); // co-mounted controllers (cpu,cpuacct) share a directory
  }
  return unified ? { v1: [...v1], unified } : { v1: [...v1] };
}

/** joinTargets for exec --cgroup, with every sub-cgroup checked to exist up front, in
 *  runc's words: nsexec would only fail at opening it, with no word of --cgroup. */
export function existingJoinTargets(paths: Record<string, string>, subs: Record<string, string>): CgroupJoinTargets {
  const targets = joinTargets(paths, subs);
  const bases = new Set(Object.values(paths));
  for (const dir of [...targets.v1, ...(targets.unified ? [targets.unified] : [])]) {
    if (!bases.has(dir) && !existsSync(join(dir, 'cgroup.procs'))) {
      throw new RockerError(`--cgroup: error adding pid to cgroups: ${join(dir, 'cgroup.procs')}: no such file or directory`, { path: dir });
    }
  }
  return targets;
}
