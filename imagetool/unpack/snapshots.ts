// Layer snapshots shared by every image in a store, the way containerd's
// overlayfs snapshotter keeps them: <root>/<chain-id hex>/fs holds exactly one
// layer's changes, with overlay whiteouts, and is stacked as an overlay lowerdir.
// A snapshot is built in a temporary directory and renamed into place, so a
// present snapshot is always complete and concurrent unpackers do not collide.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';
import type { FsOps } from '../fsops/client.js';
import type { Descriptor, ImageConfig } from '../store/index.js';
import { tempPath } from '../store/fsutil.js';
import type { LayerBlob } from './layer-blob.js';
import type { LayerLimits } from './limits.js';

/** chain(L0) = diff_id(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}` : diffId);
  }
  return out;
}

/** The layer blobs of an image with their diff_ids, bottom layer first. */
export function layerBlobs(
  store: { blobPath(digest: string): string },
  image: { layers: Descriptor[]; config: ImageConfig; configDescriptor: Pick<Descriptor, 'digest'> },
): LayerBlob[] {
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== image.layers.length) {
    throw new RockerError(`image ${image.configDescriptor.digest}: ${image.layers.length} layers but ${diffIds.length} diff_ids`);
  }
  return image.layers.map((l, i) => ({ digest: l.digest, path: store.blobPath(l.digest), diffId: diffIds[i], size: l.size }));
}

/** The snapshots below layer `i` of an image whose snapshots are `dirs` (bottom first), topmost first. */
export function lowersOf(dirs: string[], i: number): string[] {
  return dirs.slice(0, i).reverse();
}

const hexOf = (digest: string) => digest.slice(digest.indexOf(':') + 1);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export class SnapshotStore {
  readonly root: string;
  readonly #tmpDir: string;

  /**
   * The snapshots of a store, in <store>/snapshots. They are built in the
   * store's tmp dir, named after their process so that what a killed
   * unpacker left is removed when the store is next opened.
   */
  constructor(store: { snapshotDir: string; tmpDir: string }) {
    this.root = store.snapshotDir;
    this.#tmpDir = store.tmpDir;
  }

  fsDir(chainId: string): string {
    return join(this.root, hexOf(chainId), 'fs');
  }

  /** Makes sure every layer has its snapshot; returns their fs dirs, bottom layer first. */
  async prepare(layers: LayerBlob[], fsops: FsOps, limits: LayerLimits): Promise<string[]> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const chains = chainIds(layers.map((l) => l.diffId));
    const dirs = chains.map((c) => this.fsDir(c));
    for (const [i, layer] of layers.entries()) {
      if (!(await exists(dirs[i]))) await this.build(chains[i], layer, lowersOf(dirs, i), fsops, limits);
    }
    return dirs;
  }

  async exists(chainId: string): Promise<boolean> {
    return exists(this.fsDir(chainId));
  }

  /** A new temporary snapshot directory; its layer goes into <tmp>/fs. Like the
   *  snapshots dir, it is root's alone (0700): image content is never reachable
   *  by another user, also while it is unpacked. */
  async makeTemp(): Promise<string> {
    const tmp = tempPath(this.#tmpDir);
    await mkdir(tmp, { mode: 0o700 });
    await mkdir(join(tmp, 'fs'), { mode: 0o755 });
    return tmp;
  }

  /** Moves a complete temporary snapshot into place as `chainId`'s. */
  async commitTemp(chainId: string, tmp: string): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await rename(tmp, join(this.root, hexOf(chainId))).catch(async (err: NodeJS.ErrnoException) => {
      // Another unpacker finished the same snapshot first: theirs is as good.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }

  /** Makes `chainId`'s snapshot from the stored blob of its layer, on `lowers` (topmost first). */
  async build(chainId: string, layer: LayerBlob, lowers: string[], fsops: FsOps, limits: LayerLimits): Promise<void> {
    // Loaded here: a bundle whose snapshots exist needs no tar, zlib or unpacker.
    const { applyLayerBlob } = await import('./layer-blob.js');
    const tmp = await this.makeTemp();
    try {
      await applyLayerBlob(layer, { root: join(tmp, 'fs'), mode: 'overlay', fsops, lowers, limits });
      await this.commitTemp(chainId, tmp);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
