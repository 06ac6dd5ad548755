// Layer snapshots shared by every image in a store, the way containerd's
// overlayfs snapshotter keeps them: <root>/<chain-id hex>/fs holds exactly one
// layer's changes, with overlay whiteouts, and is stacked as an overlay lowerdir.
// A snapshot is built in a temporary directory and renamed into place, so a
// present snapshot is always complete and concurrent unpackers do not collide.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsOps } from '../fsops/client.js';
import { applyLayerBlob, type LayerBlob } from './layer-blob.js';

/** chain(L0) = diff_id(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}` : diffId);
  }
  return out;
}

const hexOf = (digest: string) => digest.slice(digest.indexOf(':') + 1);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export class SnapshotStore {
  /** `root` is the snapshots directory, e.g. <store>/snapshots. */
  constructor(readonly root: string) {}

  fsDir(chainId: string): string {
    return join(this.root, hexOf(chainId), 'fs');
  }

  /** Makes sure every layer has its snapshot; returns their fs dirs, bottom layer first. */
  async prepare(layers: LayerBlob[], fsops: FsOps): Promise<string[]> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const chains = chainIds(layers.map((l) => l.diffId));
    const dirs: string[] = [];
    for (const [i, layer] of layers.entries()) {
      const dir = this.fsDir(chains[i]);
      if (!(await exists(dir))) await this.#build(chains[i], layer, [...dirs].reverse(), fsops);
      dirs.push(dir);
    }
    return dirs;
  }

  async #build(chainId: string, layer: LayerBlob, lowers: string[], fsops: FsOps): Promise<void> {
    const tmp = join(this.root, `.tmp-${hexOf(chainId).slice(0, 12)}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(join(tmp, 'fs'), { recursive: true, mode: 0o755 });
      await applyLayerBlob(layer, { root: join(tmp, 'fs'), mode: 'overlay', fsops, lowers });
      await rename(tmp, join(this.root, hexOf(chainId))).catch(async (err: NodeJS.ErrnoException) => {
        // Another unpacker finished the same snapshot first: theirs is as good.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
