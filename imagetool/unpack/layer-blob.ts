// One layer blob applied to a directory: decompress, verify the diff_id while
// reading, apply the entries.
import { LayerApplier, type ApplyOptions } from './apply-layer.js';
import { hashing, openUncompressed } from './decompress.js';
import { LayerError } from './errors.js';
import { readTarEntries, TarFormatError } from '../layer/tar-entries.js';

export interface LayerBlob {
  /** The (compressed) blob's digest, as the manifest names it. */
  digest: string;
  /** Where the blob is stored. */
  path: string;
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

export async function applyLayerBlob(blob: LayerBlob, options: Omit<ApplyOptions, 'layer'>): Promise<void> {
  const { stream, digest } = hashing(await openUncompressed(blob.path));
  try {
    await new LayerApplier({ ...options, layer: blob.digest }).apply(readTarEntries(stream));
  } catch (err) {
    if (err instanceof TarFormatError) throw new LayerError(blob.digest, undefined, err.message);
    if (err instanceof LayerError) throw err;
    throw new LayerError(blob.digest, undefined, (err as Error).message);
  }
  if (digest() !== blob.diffId) {
    throw new LayerError(blob.digest, undefined, `uncompressed content is ${digest()}, but the image config says diff_id ${blob.diffId}`);
  }
}
