// The store's update lock: <root>/lock, locked through runtime/state/file-lock.ts
// (only root can take it, the kernel drops it when its holder dies however it dies,
// and it holds across network namespaces, unlike the abstract socket it replaced).
import { join } from 'node:path';
import { lockFileByte } from '../../runtime/state/file-lock.js';

/** Runs fn while holding the store lock. */
export async function withStoreLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = await lockFileByte(join(root, 'lock'), 0);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
