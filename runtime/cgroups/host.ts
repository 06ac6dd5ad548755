// What the host offers: the cgroup hierarchies mounted (from /proc/self/mountinfo)
// and the runtime's own place in each (from /proc/self/cgroup). A host is "v1"
// (only v1 hierarchies), "unified" (only cgroup2) or "hybrid" (both, as here:
// v1 controllers plus a cgroup2 mount that may hold a few controllers).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface V1Hierarchy {
  mountpoint: string;
  /** The mount's root within the hierarchy (not "/" inside a container). */
  root: string;
  /** Controllers and "name=..." of this hierarchy, e.g. ["cpu","cpuacct"] or ["name=systemd"]. */
  controllers: string[];
}

export interface HostCgroups {
  mode: 'v1' | 'hybrid' | 'unified';
  /** By controller key ("memory", "name=systemd", ...). Co-mounted controllers share one entry. */
  v1: Map<string, V1Hierarchy>;
  unified?: { mountpoint: string; root: string };
  /** The runtime's own cgroup per controller key ("" = cgroup2), as /proc/self/cgroup lists it. */
  own: Map<string, string>;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Names the kernel knows as v1 subsystems, from /proc/cgroups. */
function knownSubsystems(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync('/proc/cgroups', 'utf8').split('\n')) {
    if (line && !line.startsWith('#')) names.add(line.split('\t')[0]);
  }
  return names;
}

export function parseMountinfo(text: string, subsystems: Set<string>): Pick<HostCgroups, 'v1' | 'unified'> {
  const v1 = new Map<string, V1Hierarchy>();
  let unified: HostCgroups['unified'];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const root = unescapeMount(pre[3]);
    const mountpoint = unescapeMount(pre[4]);
    if (fstype === 'cgroup2') {
      unified ??= { mountpoint, root };
    } else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => subsystems.has(o) || o.startsWith('name='));
      const h: V1Hierarchy = { mountpoint, root, controllers };
      for (const c of controllers) if (!v1.has(c)) v1.set(c, h);
    }
  }
  return { v1, unified };
}

export function parseProcCgroup(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') own.set('', m[2]);
    else for (const c of m[1].split(',')) own.set(c, m[2]);
  }
  return own;
}

let cached: HostCgroups | undefined;

export function probeHost(): HostCgroups {
  if (cached) return cached;
  const { v1, unified } = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'), knownSubsystems());
  const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  const mode = v1.size === 0 ? 'unified' : unified ? 'hybrid' : 'v1';
  cached = { mode, v1, unified, own };
  return cached;
}

/** The host directory of `cgPath` (a path within a hierarchy) under a mount whose root is `root`. */
export function hostDir(mountpoint: string, root: string, cgPath: string): string | undefined {
  const r = root.endsWith('/') ? root : root + '/';
  if (root !== '/' && cgPath !== root && !cgPath.startsWith(r)) return undefined;
  return join(mountpoint, root === '/' ? cgPath : cgPath.slice(root.length));
}

/** Controllers a cgroup2 directory offers to its children (cgroup.controllers). */
export function unifiedControllers(dir: string): Set<string> {
  try {
    return new Set(readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean));
  } catch {
    return new Set();
  }
}

/** Directory names of /sys/kernel/mm/hugepages ("hugepages-2048kB") as hugetlb spells the sizes ("2MB"). */
function hugePageSizes(names: string[]): string[] {
  const units = ['kB', 'MB', 'GB', 'TB'];
  return names
    .map((n) => /^hugepages-(\d+)kB$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      let size = Number(m[1]);
      let u = 0;
      while (size >= 1024 && size % 1024 === 0 && u < units.length - 1) {
        size /= 1024;
        u++;
      }
      return `${size}${units[u]}`;
    });
}

/** The huge page sizes this host has, as hugetlb file names spell them. */
export function hostHugePageSizes(): string[] {
  try {
    return hugePageSizes(readdirSync('/sys/kernel/mm/hugepages'));
  } catch {
    return [];
  }
}
