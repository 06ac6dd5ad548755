// Leaving the machine as the suites found it, even after a failure: mounts under a
// temp dir, processes that still refer to it, and cgroups the clients created.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './proc.mjs';
import { hierarchyMounts, layout } from '../../cgroups/layout.mjs';

/** Mount points at or below dir, deepest first (mountinfo escapes spaces as \040). */
function mountsUnder(dir) {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

export async function unmountUnder(dir) {
  for (const m of mountsUnder(dir)) await run('umount', ['-l', m]);
}

/** Pids (other than ours) whose command line contains needle. */
export function pidsWithCmdline(needle) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(needle)) pids.push(Number(name));
  }
  return pids;
}

/** The unix socket paths processes `pids` listen on (the files outlive a SIGKILL). */
export function listeningSockets(pids) {
  const lines = execFileSync('ss', ['-xlpnH'], { encoding: 'utf8' }).split('\n');
  const owned = lines.filter((l) => [...l.matchAll(/pid=(\d+)/g)].some((m) => pids.includes(Number(m[1]))));
  return owned.map((l) => l.trim().split(/\s+/)[4]).filter((path) => path?.startsWith('/'));
}

export function killPids(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Removes rel (e.g. "/ns/c1") and everything below it from every hierarchy, first
 * killing what a failed test left inside (thawed, or SIGKILL would wait for a thaw).
 */
export async function removeCgroupTree(rel) {
  const dirs = hierarchyMounts().flatMap((h) => subtree(join(h, rel)));
  const freezer = layout.v1.get('freezer');
  for (const d of dirs) {
    try {
      if (freezer && d.startsWith(`${freezer}/`)) writeFileSync(join(d, 'freezer.state'), 'THAWED');
      else if (!freezer && d.startsWith(`${layout.unified}/`)) writeFileSync(join(d, 'cgroup.freeze'), '0');
    } catch {
      // not a freezer dir after all, or gone
    }
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const left = dirs.filter((d) => existsSync(d));
    if (left.length === 0) break;
    for (const d of left) {
      killPids(readPids(join(d, 'cgroup.procs')));
      try {
        rmdirSync(d);
      } catch {
        // busy until its killed members are reaped
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  removePlainCopies(rel);
}

/**
 * podman's cgroup manager also mkdirs rel under the v1 root's entries that are no
 * hierarchy on this host (hugetlb, net_cls... when not mounted): plain dirs on the
 * root's tmpfs, which no cgroup walk sees. Removes those copies of rel only.
 */
function removePlainCopies(rel) {
  for (const root of new Set([...layout.v1.values()].map((m) => dirname(m)))) {
    const mounts = new Set(mountsUnder(root));
    for (const e of readdirSync(root, { withFileTypes: true })) {
      const dir = join(root, e.name);
      if (e.isDirectory() && !mounts.has(dir) && existsSync(join(dir, rel))) rmSync(join(dir, rel), { recursive: true, force: true });
    }
  }
}

/** dir and its descendants, deepest first. */
function subtree(dir) {
  if (!existsSync(dir)) return [];
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => subtree(join(dir, e.name)));
  return [...below, dir];
}

function readPids(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Paths of rel in the hierarchies where it exists. */
export function existingCgroups(rel) {
  return hierarchyMounts().map((h) => join(h, rel)).filter((d) => existsSync(d));
}

export function rmdirQuiet(dir) {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (shared with someone else) or already gone
  }
}
