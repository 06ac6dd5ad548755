// Leases protect what a running writer (pull, import) is about to reference
// from a concurrent gc: the blobs it names, and every blob newer than the
// lease (one it is writing, whose digest it may not know in advance). A lease
// is a file <root>/leases/<pid>-<starttime>-<rand>; leases of dead processes
// are ignored and removed. Changes happen under the store lock, so a gc either
// sees a digest in the lease or has finished before the writer checks for it.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { tempPath, writeFileAtomic } from './fsutil.js';
import { ownerAlive } from './owner.js';

interface LeaseFile {
  since: number;
  digests: string[];
}

export class Lease {
  private readonly digests = new Set<string>();

  private constructor(
    readonly path: string,
    private readonly since: number,
    private readonly tmpDir: string,
    private readonly withLock: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  static async create(leaseDir: string, tmpDir: string, withLock: <T>(fn: () => Promise<T>) => Promise<T>): Promise<Lease> {
    const lease = new Lease(join(leaseDir, basename(tempPath(tmpDir))), Date.now(), tmpDir, withLock);
    await lease.withLock(() => lease.save());
    return lease;
  }

  private save(): Promise<void> {
    const doc: LeaseFile = { since: this.since, digests: [...this.digests] };
    // A lease only matters while its process lives, so it need not survive a crash.
    return writeFileAtomic(this.path, JSON.stringify(doc), { tmpDir: this.tmpDir, durable: false });
  }

  async add(digests: string[]): Promise<void> {
    digests.forEach((d) => this.digests.add(d));
    await this.withLock(() => this.save());
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => {});
  }
}

/** File times come from the kernel's coarse clock, which may lag Date.now() by a tick. */
const CLOCK_SLACK_MS = 1000;

/** What the live leases in `leaseDir` protect: named digests, and blobs modified at or after `since`. */
export async function liveLeases(leaseDir: string): Promise<{ digests: Set<string>; since: number }> {
  const digests = new Set<string>();
  let since = Infinity;
  for (const name of await readdir(leaseDir)) {
    if (!ownerAlive(name)) continue;
    const doc = await readFile(join(leaseDir, name), 'utf8').then((t) => JSON.parse(t) as LeaseFile, () => undefined);
    if (!doc) continue;
    doc.digests.forEach((d) => digests.add(d));
    since = Math.min(since, doc.since - CLOCK_SLACK_MS);
  }
  return { digests, since };
}
