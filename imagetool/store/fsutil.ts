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

export interface AtomicWriteOptions {
  /** Where the temp file goes (same filesystem as the target); the target's directory by default. */
  tmpDir?: string;
  /** false skips the fsyncs, for files that mean nothing after a power loss (leases, bundles). */
  durable?: boolean;
  mode?: number;
}

export async function writeFileAtomic(target: string, data: string | Buffer, o: AtomicWriteOptions = {}): Promise<void> {
  const durable = o.durable ?? true;
  const tmp = tempPath(o.tmpDir ?? dirname(target));
  const fh = await open(tmp, 'wx', o.mode ?? 0o644);
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
