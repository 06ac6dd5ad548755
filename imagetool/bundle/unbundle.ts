// rocker-image unbundle: unmounts a bundle's rootfs, removes the bundle and
// the snapshots nothing uses any more.
import { access, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';
import { Store } from '../store/index.js';
import { pruneSnapshots } from '../unpack/snapshot-gc.js';
import { bundleUsers } from './in-use.js';
import { unmount } from './overlay-mount.js';
import { bundlePaths, readBundleRecord } from './record.js';

async function isMountpoint(path: string, parent: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(path).catch(() => null), stat(parent)]);
  return !!a && a.dev !== b.dev;
}

export async function removeBundle(dir: string, o: { force?: boolean } = {}): Promise<void> {
  const record = await readBundleRecord(dir);
  const { rootfs } = bundlePaths(dir);
  if (!o.force) {
    // Removing it would delete the upper dir under a running container.
    const users = await bundleUsers(dir);
    if (users.length) throw new RockerError(`unbundle ${dir}: the bundle is in use by a live container: ${users.join(', ')}; stop and delete the container first, or use --force`);
  }
  if (record.mode === 'overlay') {
    await unmount(rootfs);
    // Never delete through a mount: that would reach into whatever is mounted there.
    if (await isMountpoint(rootfs, dir)) throw new RockerError(`unbundle ${dir}: ${rootfs} is still mounted`);
  }
  await rm(dir, { recursive: true, force: true });
  // The bundle may have been the last user of its snapshots (its image removed meanwhile).
  if (record.mode === 'overlay' && (await access(join(record.store, 'index.json')).then(() => true, () => false))) {
    await pruneSnapshots(await Store.open(record.store));
  }
}
