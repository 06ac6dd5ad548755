// The state directory of one container: <root>/<id>/ with state.json and,
// between create and start, exec.fifo.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateId } from './id.js';

export const STATE_FILE = 'state.json';
export const EXEC_FIFO = 'exec.fifo';

export interface ContainerDir {
  id: string;
  root: string;
  dir: string;
  stateFile: string;
  execFifo: string;
}

/** Validates `id` and names its paths (nothing is created). */
export function containerDir(root: string, id: string): ContainerDir {
  validateId(id);
  const dir = join(root, id);
  return { id, root, dir, stateFile: join(dir, STATE_FILE), execFifo: join(dir, EXEC_FIFO) };
}

/** The root is created 0700 when missing (containerd's shim never creates it). */
export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}
