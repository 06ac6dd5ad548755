// Is a bundle still used by a live container? unbundle asks before it removes
// the upper dir from under one. Two independent answers:
// - the runtimes' state directories rocker knows (its own, runc's, crun's,
//   containerd's runc shim), for a live container whose bundle or rootfs it is;
// - the overlay itself: another mount namespace that has the bundle's overlay
//   superblock mounted is a container (of any runtime, any --root) using it.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bundlePaths } from './record.js';

/** Default state roots: rocker-runtime, runc (also podman's and docker's), crun, and containerd's shim roots one level down. */
const RUNTIME_ROOTS = ['/run/rocker', '/run/runc', '/run/crun'];
const SHIM_ROOTS = ['/run/containerd/runc'];

interface StateFacts {
  bundle?: string;
  rootfs?: string;
  pid?: number;
}

/** rocker's state.json (bundle, rootfs, pid), runc's (config.rootfs, config.labels bundle=, init_process_pid) or crun's status. */
function factsOf(doc: Record<string, unknown>): StateFacts {
  const config = (doc.config ?? {}) as { rootfs?: unknown; labels?: unknown };
  const label = Array.isArray(config.labels) ? (config.labels as string[]).find((l) => l.startsWith('bundle='))?.slice(7) : undefined;
  const bundle = typeof doc.bundle === 'string' ? doc.bundle : label;
  const rootfs = typeof doc.rootfs === 'string' ? doc.rootfs : typeof config.rootfs === 'string' ? config.rootfs : undefined;
  const pid = Number(doc.init_process_pid ?? doc.pid) || undefined;
  return { bundle, rootfs, pid };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function stateRoots(): Promise<string[]> {
  const shims = await Promise.all(SHIM_ROOTS.map(async (r) => (await readdir(r).catch(() => [])).map((ns) => join(r, ns))));
  return [...RUNTIME_ROOTS, ...shims.flat()];
}

/** "<root>/<id> (pid N)" for each live container in a known state root using `dir`. */
async function fromStateRoots(dir: string): Promise<string[]> {
  const { rootfs } = bundlePaths(dir);
  const found: string[] = [];
  for (const root of await stateRoots()) {
    for (const id of await readdir(root).catch(() => [])) {
      for (const file of ['state.json', 'status']) {
        const text = await readFile(join(root, id, file), 'utf8').catch(() => null);
        if (!text) continue;
        let facts: StateFacts;
        try {
          facts = factsOf(JSON.parse(text) as Record<string, unknown>);
        } catch {
          continue;
        }
        if ((facts.bundle === dir || facts.rootfs === rootfs) && facts.pid && alive(facts.pid)) found.push(`${join(root, id)} (pid ${facts.pid})`);
        break;
      }
    }
  }
  return found;
}

/** "pid N" for one process of each other mount namespace where the bundle's overlay is mounted. */
async function fromMountNamespaces(dir: string): Promise<string[]> {
  const st = await stat(bundlePaths(dir).rootfs).catch(() => null);
  const parent = await stat(dir).catch(() => null);
  if (!st || !parent || st.dev === parent.dev) return []; // not mounted: nobody can be using the overlay
  // mountinfo's third field is major:minor; Node's dev is the kernel's new_encode_dev.
  const dev = `${(st.dev >> 8) & 0xfff}:${(st.dev & 0xff) | ((st.dev >> 12) & 0xfff00)}`;
  const own = await readlink('/proc/self/ns/mnt');
  const seen = new Set([own]);
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    const ns = await readlink(`/proc/${pid}/ns/mnt`).catch(() => null);
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    const info = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
    if (info.split('\n').some((l) => l.split(' ')[2] === dev)) found.push(`pid ${pid}`);
  }
  return found;
}

/** Who still uses the bundle at `dir` (empty when nobody does). */
export async function bundleUsers(dir: string): Promise<string[]> {
  const [states, namespaces] = await Promise.all([fromStateRoots(dir), fromMountNamespaces(dir)]);
  return [...states, ...namespaces];
}
