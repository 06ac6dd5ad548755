// The host's cgroup layout as the tests expect it, read here from
// /proc/self/mountinfo and cgroupfs on its own (not through the runtime's
// host.ts), so a wrong path or controller choice in the runtime fails a test.
// Works on v1, hybrid and pure cgroup2 hosts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

const unescape = (s) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
const subsystems = new Set(
  readFileSync('/proc/cgroups', 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t')[0]),
);

/** v1 mount points by controller ("cpu", "name=systemd", ...), and the cgroup2 mount point. */
const v1 = new Map();
let unified;
for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
  const sep = line.indexOf(' - ');
  if (sep < 0) continue;
  const mountpoint = unescape(line.slice(0, sep).split(' ')[4]);
  const [fstype, , opts = ''] = line.slice(sep + 3).split(' ');
  if (fstype === 'cgroup2') unified ??= mountpoint;
  if (fstype === 'cgroup') for (const o of opts.split(',')) if ((subsystems.has(o) || o.startsWith('name=')) && !v1.has(o)) v1.set(o, mountpoint);
}
const v2Controllers = new Set(unified ? readFileSync(join(unified, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean) : []);

export const layout = {
  mode: v1.size === 0 ? 'unified' : unified ? 'hybrid' : 'v1',
  /** v1 mount point by controller. */
  v1,
  /** The cgroup2 mount point, if any. */
  unified,
  /** Controllers the cgroup2 root offers. */
  v2Controllers,
};

/** 'v1' or 'v2' for where `controller` lives on this host (v1 first, as the runtime routes), undefined if nowhere. */
export function home(controller) {
  if (v1.has(controller)) return 'v1';
  if (v2Controllers.has(controller)) return 'v2';
  return undefined;
}

/** Every mount point of a hierarchy (v1 ones once, then cgroup2). */
export function hierarchyMounts() {
  return [...new Set(v1.values()), ...(unified ? [unified] : [])];
}

/** The key a hierarchy has in a container's cgroupPaths (first controller of a v1 mount, "" for cgroup2), with its mount point. */
export function expectedKeys() {
  const keys = [...v1.keys()].map((k) => [k, v1.get(k)]);
  if (unified) keys.push(['', unified]);
  return keys;
}

/** The directory that holds `controller`'s files among a container's cgroupPaths. */
export function dirFor(paths, controller) {
  const where = home(controller);
  if (where === 'v1') return paths[controller];
  if (where === 'v2') return paths[''];
  return undefined;
}

/** The directory of cgroup path `cgPath` for `controller` ("" = cgroup2) on this host. */
export function hostPath(controller, cgPath) {
  const mount = controller === '' ? unified : v1.get(controller);
  return mount && join(mount, cgPath);
}

/** The runtime's own cgroup per controller key, from /proc/self/cgroup. */
export function ownCgroups() {
  return new Map(
    readFileSync('/proc/self/cgroup', 'utf8')
      .trim()
      .split('\n')
      .flatMap((l) => {
        const [, ctrls, path] = /^\d+:([^:]*):(.*)$/.exec(l);
        return ctrls === '' ? [['', path]] : ctrls.split(',').map((c) => [c, path]);
      }),
  );
}

/** Huge page sizes as hugetlb names them ("2MB"), from /sys/kernel/mm/hugepages. */
export function hugePageSizes() {
  if (!existsSync('/sys/kernel/mm/hugepages')) return [];
  return readdirSync('/sys/kernel/mm/hugepages').map((n) => {
    const kb = Number(/^hugepages-(\d+)kB$/.exec(n)?.[1]);
    return kb >= 1024 * 1024 ? `${kb / 1024 / 1024}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}kB`;
  });
}

/** Whether a block I/O weight file exists in `dir` (v1: CFQ or BFQ; cgroup2: io.cost or BFQ). */
export function hasIoWeightIn(dir) {
  return ['blkio.weight', 'blkio.bfq.weight', 'io.weight', 'io.bfq.weight'].some((f) => existsSync(join(dir, f)));
}

/** The host's first real block device as [major, minor] (per-device blkio rules), or undefined. */
export function firstBlockDevice() {
  const row = readFileSync('/proc/partitions', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f.length === 4 && !/^(loop|ram|zram)/.test(f[3]));
  return row && row.slice(0, 2).map(Number);
}

/** A container's cgroupPaths as the runtime should record them for cgroup path `cgPath` on this host. */
export function pathsOf(cgPath) {
  return Object.fromEntries(expectedKeys().map(([key]) => [key, hostPath(key, cgPath)]));
}

/** Where a container sees `controller`'s file in its own /sys/fs/cgroup (cgroup namespace): `v1file` or `v2file`. */
export function fileInside(controller, v1file, v2file) {
  return home(controller) === 'v1' ? `/sys/fs/cgroup/${basename(v1.get(controller))}/${v1file}` : `/sys/fs/cgroup/${v2file}`;
}

/** Whether the cgroup with `paths` is frozen: v1 freezer.state, else cgroup2's cgroup.freeze. */
export function frozen(paths) {
  if (home('freezer') === 'v1') return readFileSync(join(paths.freezer, 'freezer.state'), 'utf8').trim() === 'FROZEN';
  return readFileSync(join(paths[''], 'cgroup.freeze'), 'utf8').trim() === '1';
}
