// Snapshots no image and no mounted bundle uses are removed. What an image
// uses comes from index.json (every manifest it reaches, all platforms); what
// a bundle uses, from the lowerdirs of the overlay mounts in mountinfo, so a
// bundle keeps its layers even when its image was removed. Like blobs, those
// made since a running pull took its lease stay (its ref comes last).
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isIndexType, isManifestType, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Store } from '../store/index.js';
import { liveLeases } from '../store/lease.js';
import { chainIds, SnapshotStore } from './snapshots.js';

/** Chain IDs of every image index.json reaches (manifests whose blobs are present). */
async function imageChains(store: Store): Promise<Set<string>> {
  const chains = new Set<string>();
  const seen = new Set<string>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest) || !(await store.hasBlob(d.digest))) return;
    seen.add(d.digest);
    if (isIndexType(d.mediaType)) {
      for (const child of (await store.readJSON<ImageIndex>(d.digest)).manifests) await visit(child);
    } else if (isManifestType(d.mediaType)) {
      const manifest = await store.readJSON<ImageManifest>(d.digest);
      if (!(await store.hasBlob(manifest.config.digest))) return;
      const config = await store.readJSON<ImageConfig>(manifest.config.digest);
      for (const c of chainIds(config.rootfs?.diff_ids ?? [])) chains.add(c);
    }
  };
  for (const ref of await store.listRefs()) await visit(ref.descriptor);
  return chains;
}

/**
 * Every overlay lowerdir mounted in this mount namespace, as given to mount:
 * bundles pass theirs relative to the snapshot dir (overlay-mount.ts), which
 * mountinfo shows verbatim, so "<hex>/fs" counts for any store (keeping too
 * much rather than too little).
 */
async function mountedLowerdirs(): Promise<Set<string>> {
  const dirs = new Set<string>();
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const [, after] = line.split(' - ');
    if (!after?.startsWith('overlay ')) continue;
    const lower = after.split(' ')[2]?.split(',').find((o) => o.startsWith('lowerdir='));
    for (const dir of lower?.slice('lowerdir='.length).split(':') ?? []) dirs.add(dir.replace(/\\040/g, ' '));
  }
  return dirs;
}

/** Removes unused snapshots (under the store lock); returns their chain IDs. */
export async function pruneSnapshots(store: Store): Promise<string[]> {
  const snapshots = new SnapshotStore(store);
  return store.withLock(async () => {
    const names = await readdir(snapshots.root).catch(() => [] as string[]);
    if (!names.length) return [];
    const [chains, mounted, leased] = await Promise.all([imageChains(store), mountedLowerdirs(), liveLeases(store.leaseDir)]);
    const keep = new Set([...chains].map((c) => snapshots.fsDir(c)));
    const removed: string[] = [];
    for (const name of names) {
      // Temporary build directories belong to unpackers that may be running.
      if (name.startsWith('.')) continue;
      const fs = join(snapshots.root, name, 'fs');
      if (keep.has(fs) || mounted.has(fs) || mounted.has(`${name}/fs`)) continue;
      // The snapshot dir's own mtime is when it was made (its only entry, fs, is created with it).
      if ((await stat(join(snapshots.root, name))).mtimeMs >= leased.since) continue;
      await rm(join(snapshots.root, name), { recursive: true, force: true });
      removed.push(`sha256:${name}`);
    }
    return removed;
  });
}
