// Sequential container lifecycles and what they leave behind: used by the test
// suite (a few dozen) and by `make bench` (1,000). Each lifecycle is one foreground
// `run` (create, start, wait, delete) of `ls /proc/self/fd` in its own cgroup under
// one parent, so the check can look at exactly what this caller made.
//
//   const check = await lifecycleCheck({ runtime: [node, bin], work, n })
//     -> { n, ms, before, after, containerFds: Set of the fd listings seen }
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxBundle } from './busybox-bundle.mjs';
import { hierarchyMounts } from '../cgroups/layout.mjs';
import { LOCK_FILE } from '../../dist/runtime/state/lock.js';

/** Every hierarchy's directory for cgroup `path` (v1 controllers and the cgroup2 mount, as mounted here). */
function cgroupDirs(path) {
  return hierarchyMounts().map((dir) => join(dir, path));
}

/** Things that must be the same before and after: state entries, child cgroups, our mounts, our fds. */
export function snapshot({ stateRoot, cgroupParent, work }) {
  const children = cgroupDirs(cgroupParent).flatMap((d) =>
    existsSync(d) ? readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(d, e.name)) : [],
  );
  return {
    // The root's one lock file (runtime/state/lock.ts) is shared by every container and stays.
    stateEntries: existsSync(stateRoot) ? readdirSync(stateRoot).filter((e) => e !== LOCK_FILE).sort() : [],
    cgroups: children.sort(),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work)),
    callerFds: readdirSync('/proc/self/fd').length,
  };
}

/**
 * n foreground runs, one after another, with snapshots before and after. Every
 * container has its own cgroup (the bundle's config is rewritten per run).
 */
export function lifecycleCheck({ runtime, work, n }) {
  const stateRoot = join(work, 'state');
  const cgroupParent = `/rocker-lifecycles-${process.pid}`;
  const bundle = makeBusyboxBundle(join(work, 'bundle'), ['/bin/ls', '/proc/self/fd']);
  const where = { stateRoot, cgroupParent, work };
  const before = snapshot(where);
  const containerFds = new Set();
  const configFile = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  const t0 = process.hrtime.bigint();
  try {
    for (let i = 0; i < n; i++) {
      config.linux.cgroupsPath = `${cgroupParent}/c${i}`;
      writeFileSync(configFile, JSON.stringify(config));
      const r = spawnSync(runtime[0], [...runtime.slice(1), '--root', stateRoot, 'run', '--bundle', bundle, `lc-${process.pid}-${i}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`run ${i} exited ${r.status}: ${r.stderr}`);
      containerFds.add(r.stdout.trim().split(/\s+/).join(' '));
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { n, ms, before, after: snapshot(where), containerFds };
  } finally {
    // The parent is ours alone: whatever a run left in it (reported in `after`) goes too.
    for (const d of cgroupDirs(cgroupParent)) {
      if (!existsSync(d)) continue;
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmdirSync(join(d, e.name));
      rmdirSync(d);
    }
  }
}
