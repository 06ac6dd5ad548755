// The store's update lock: <root>/lock, locked through runtime/state/file-lock.ts
// (only root can take it, the kernel drops it when its holder dies however it dies,
// and it holds across network namespaces, unlike the abstract socket it replaced).
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lockFileByte } from '../../runtime/state/file-lock.js';

const lockFile = (root: string) => join(root, 'lock');

/** Runs fn while holding the store lock. */
export async function withStoreLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockFileByte(lockFile(root), 0);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Removes the lock file (an exported layout is no store), holding the lock, so
 *  that a waiter takes it again on a new file (file-lock.ts). */
export function removeStoreLockFile(root: string): Promise<void> {
  return withStoreLock(root, async () => unlinkSync(lockFile(root)));
}
