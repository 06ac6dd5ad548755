// What a worker must know of a task to serve it after another worker started it:
// the shim's Node worker ends when idle (the holder keeps the containers), so each
// container is recorded in the runtime root as <id>.task.json (a file: the runtime's
// `list` reads directories only), written at Create, Start and the published exit,
// removed at Delete. The root is per namespace, which two containerds on one host may
// share (as they share the runc shim's): a record names the containerd it belongs to.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../runtime/state/state-file.js';

const SUFFIX = '.task.json';

export interface TaskRecord {
  /** The containerd (its address) whose task this is. */
  address: string;
  id: string;
  bundle: string;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  pid: number;
  /** The shim mounted the rootfs (containerd passed mounts): Delete unmounts it. */
  mounted: boolean;
  cgroupPaths: Record<string, string>;
  started: boolean;
  /** TaskExit was published (exactly once, whichever worker saw the exit). */
  exitTold: boolean;
}

const recordPath = (root: string, id: string): string => join(root, `${id}${SUFFIX}`);

export function saveTask(root: string, rec: TaskRecord): void {
  replaceFile(recordPath(root, rec.id), JSON.stringify(rec));
}

export function removeTask(root: string, id: string): void {
  rmSync(recordPath(root, id), { force: true });
}

/** The recorded tasks of containerd `address`; an unreadable record is skipped (its container is containerd's `delete` path's). */
export function loadTasks(root: string, address: string): TaskRecord[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.endsWith(SUFFIX));
  } catch {
    return [];
  }
  const out: TaskRecord[] = [];
  for (const name of names) {
    try {
      const rec = JSON.parse(readFileSync(join(root, name), 'utf8')) as TaskRecord;
      if (rec.address === address) out.push(rec);
    } catch {
      // removed by a Delete meanwhile
    }
  }
  return out;
}
