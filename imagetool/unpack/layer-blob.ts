// One layer applied to a directory: decompress, verify the diff_id while
// reading, apply the entries.
import { LayerApplier, type ApplyOptions } from './apply-layer.js';
import { hashing, openUncompressed } from './decompress.js';
import { LayerError } from './errors.js';
import { withinLimits, type LayerLimits } from './limits.js';
import { readTarEntries, TarFormatError } from '../layer/tar-entries.js';

export interface LayerBlob {
  /** The (compressed) blob's digest, as the manifest names it. */
  digest: string;
  /** Where the blob is stored. */
  path: string;
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  /** The blob's (compressed) size. */
  size: number;
}

export type LayerApplyOptions = Omit<ApplyOptions, 'layer'> & { limits: LayerLimits };

export async function applyLayerBlob(blob: LayerBlob, options: LayerApplyOptions): Promise<void> {
  await applyLayerStream(await openUncompressed(blob.path), blob, options);
}

/** Applies the uncompressed tar `source` of `layer`; returns the applier (for finishDeferred). */
export async function applyLayerStream(
  source: AsyncIterable<Buffer>,
  layer: Omit<LayerBlob, 'path'>,
  { limits, ...options }: LayerApplyOptions,
): Promise<LayerApplier> {
  const { stream, digest } = hashing(withinLimits(source, layer, limits));
  const applier = new LayerApplier({ ...options, layer: layer.digest });
  try {
    await applier.apply(readTarEntries(stream));
  } catch (err) {
    if (err instanceof TarFormatError) throw new LayerError(layer.digest, undefined, err.message);
    if (err instanceof LayerError) throw err;
    throw new LayerError(layer.digest, undefined, (err as Error).message);
  }
  if (digest() !== layer.diffId) {
    throw new LayerError(layer.digest, undefined, `uncompressed content is ${digest()}, but the image config says diff_id ${layer.diffId}`);
  }
  return applier;
}
