// Durable file primitives: write to a temp file inside the store, fsync,
// rename over the target, fsync the directory. Readers see old or new, never half.
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ownerToken } from './owner.js';

/** A fresh temp path in `tmpDir` that names its owner (for clean-up after a crash). */
export function tempPath(tmpDir: string): string {
  return join(tmpDir, `${ownerToken()}-${randomBytes(6).toString('hex')}`);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `durable: false` skips the fsyncs, for files that mean nothing after a crash (leases). */
export async function writeFileAtomic(target: string, data: string | Buffer, tmpDir: string, durable = true): Promise<void> {
  const tmp = tempPath(tmpDir);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  if (durable) await fsyncDir(dirname(target));
}
