// The per-container lock that serialises commands on one id: byte hash(id) of
// <root>/@lock, locked through file-lock.ts (only root can take it, the kernel drops
// it when its holder dies). One file for every id leaves nothing behind per
// container; '@' is not allowed in ids, so no container dir can collide with it.
import { join } from 'node:path';
import { ensureRoot } from './container-dir.js';
import { lockFileByte, type Lock } from './file-lock.js';

export type { Lock } from './file-lock.js';

export const LOCK_FILE = '@lock';

/** 52 bits of a 64-bit FNV-1a (an offset must stay an exact JS number); a collision only serialises two ids. */
function lockOffset(id: string): number {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < id.length; i++) {
    h ^= BigInt(id.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Number(h & 0xfffffffffffffn);
}

export async function lockContainer(root: string, id: string): Promise<Lock> {
  const file = join(root, LOCK_FILE);
  try {
    return await lockFileByte(file, lockOffset(id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    // The first command under a new root.
    ensureRoot(root);
    return lockFileByte(file, lockOffset(id));
  }
}
