// What a worker must know of a task to serve it after another worker started it:
// the shim's Node worker ends when idle (the holder keeps the containers), so each
// container is recorded in the runtime root as <id>.task.json (a file: the runtime's
// `list` reads directories only), written at Create, Start and the published exit,
// removed at Delete.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../runtime/state/state-file.js';

const SUFFIX = '.task.json';

export interface TaskRecord {
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

/** Every recorded task of the runtime root; an unreadable record is skipped (its container is containerd's `delete` path's). */
export function loadTasks(root: string): TaskRecord[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.endsWith(SUFFIX));
  } catch {
    return [];
  }
  const out: TaskRecord[] = [];
  for (const name of names) {
    try {
      out.push(JSON.parse(readFileSync(join(root, name), 'utf8')) as TaskRecord);
    } catch {
      // removed by a Delete meanwhile
    }
  }
  return out;
}
