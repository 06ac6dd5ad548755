// --flat: every layer applied in order to one plain rootfs (whiteouts delete),
// for hosts or users without overlayfs. Built next to the target and renamed
// onto it, so a refused layer leaves the target as it was.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';
import type { FsOps } from '../fsops/client.js';
import { applyLayerBlob, type LayerBlob } from './layer-blob.js';
import type { LayerLimits } from './limits.js';

export async function unpackFlat(target: string, layers: LayerBlob[], fsops: FsOps, limits: LayerLimits): Promise<void> {
  const present = await readdir(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (present.length) throw new RockerError(`unpack ${target}: the target directory is not empty`);
  const tmp = join(dirname(target), `.${basename(target)}.unpack-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(tmp, { mode: 0o755 });
    for (const layer of layers) await applyLayerBlob(layer, { root: tmp, mode: 'flat', fsops, limits });
    await rename(tmp, target);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
