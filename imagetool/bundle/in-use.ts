// Is a bundle still used by a live container? unbundle asks before it removes
// the upper dir from under one. Two independent answers:
// - the runtimes' state directories rocker knows (its own, runc's, crun's,
//   containerd's runc shim), for a live container whose bundle or rootfs it is;
// - the overlay itself: a process whose root directory is on it is a
//   container (of any runtime, any --root) using it.
import { readdir, readFile, stat } from 'node:fs/promises';
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

/**
 * "pid N" for each process whose root directory is the bundle's rootfs (on its
 * overlay, or for --flat the directory itself): a container's init and
 * everything it started, whatever runtime and state root made it. A mount
 * namespace that merely received a copy of the mount by propagation does not count.
 */
async function fromProcessRoots(dir: string): Promise<string[]> {
  const st = await stat(bundlePaths(dir).rootfs).catch(() => null);
  const parent = await stat(dir).catch(() => null);
  if (!st || !parent) return [];
  const overlay = st.dev !== parent.dev;
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    const root = await stat(`/proc/${pid}/root`).catch(() => null);
    if (root && root.dev === st.dev && (overlay || root.ino === st.ino)) found.push(`pid ${pid}`);
  }
  return found;
}

/** Who still uses the bundle at `dir` (empty when nobody does). */
export async function bundleUsers(dir: string): Promise<string[]> {
  const [states, processes] = await Promise.all([fromStateRoots(dir), fromProcessRoots(dir)]);
  return [...states, ...processes];
}
