// Whether a container's cgroup is frozen, from the paths kept in state.json. A leaf
// module: status checks (state, list, kill) read one file without loading the manager.
import { join } from 'node:path';
import { readOptional } from './cgfs.js';

export function isFrozenAt(paths: Record<string, string>): boolean {
  if (paths.freezer) return (readOptional(join(paths.freezer, 'freezer.state')) ?? '').trim() === 'FROZEN';
  const unified = paths[''];
  return unified !== undefined && (readOptional(join(unified, 'cgroup.freeze')) ?? '').trim() === '1';
}
