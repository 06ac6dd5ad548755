// Limits on what one layer may expand to, against decompression bombs (a few
// MB of gzip that inflate to many GB). The defaults are far above real
// layers; `--max-layer-size` / `--max-layer-ratio` (or ROCKER_MAX_LAYER_SIZE /
// ROCKER_MAX_LAYER_RATIO) change them, 0 turning a limit off.
import { RockerError } from '../../runtime/errors.js';
import { LayerError } from './errors.js';

export interface LayerLimits {
  /** Most uncompressed bytes a layer may have (0: no limit). */
  maxBytes: number;
  /** Most uncompressed bytes per compressed byte (0: no limit), checked once a layer is past ratioFromBytes. */
  maxRatio: number;
  /** Below this many uncompressed bytes the ratio is not checked: small layers of zeros compress very well. */
  ratioFromBytes: number;
}

const GiB = 1024 ** 3;

export const DEFAULT_LAYER_LIMITS: LayerLimits = { maxBytes: 100 * GiB, maxRatio: 100, ratioFromBytes: 1 * GiB };

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: GiB, t: 1024 ** 4 };

/** "123", "64M", "100GiB", "1.5g" as bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new RockerError(`${what}: "${text}" is not a size (e.g. 500M, 100G, 0 for no limit)`);
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

function parseRatio(text: string, what: string): number {
  const n = Number(text.trim());
  if (!text.trim() || !Number.isFinite(n) || n < 0) throw new RockerError(`${what}: "${text}" is not a ratio (e.g. 100, 0 for no limit)`);
  return n;
}

/** The limits from the global flags, else the environment, else the defaults. */
export function layerLimits(flags: { maxSize?: string; maxRatio?: string }, env: NodeJS.ProcessEnv = process.env): LayerLimits {
  const size = flags.maxSize ?? env.ROCKER_MAX_LAYER_SIZE;
  const ratio = flags.maxRatio ?? env.ROCKER_MAX_LAYER_RATIO;
  // For tests: a bomb past the 1 GiB default would take long to write.
  const from = env.ROCKER_LAYER_RATIO_FROM;
  return {
    maxBytes: size === undefined ? DEFAULT_LAYER_LIMITS.maxBytes : parseSize(size, flags.maxSize !== undefined ? '--max-layer-size' : 'ROCKER_MAX_LAYER_SIZE'),
    maxRatio: ratio === undefined ? DEFAULT_LAYER_LIMITS.maxRatio : parseRatio(ratio, flags.maxRatio !== undefined ? '--max-layer-ratio' : 'ROCKER_MAX_LAYER_RATIO'),
    ratioFromBytes: from === undefined ? DEFAULT_LAYER_LIMITS.ratioFromBytes : parseSize(from, 'ROCKER_LAYER_RATIO_FROM'),
  };
}

/** A layer that expands past a limit. */
export class LayerLimitError extends LayerError {}

/** Passes the uncompressed stream of a layer (`size` compressed bytes) through, failing once it passes a limit. */
export async function* withinLimits(source: AsyncIterable<Buffer>, layer: { digest: string; size: number }, limits: LayerLimits): AsyncGenerator<Buffer> {
  const ratioBytes = limits.maxRatio > 0 ? Math.max(limits.ratioFromBytes, limits.maxRatio * layer.size) : Infinity;
  const maxBytes = limits.maxBytes > 0 ? limits.maxBytes : Infinity;
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new LayerLimitError(layer.digest, undefined, `expands to more than ${limits.maxBytes} bytes, the limit of --max-layer-size (ROCKER_MAX_LAYER_SIZE)`);
    }
    if (total > ratioBytes) {
      throw new LayerLimitError(
        layer.digest,
        undefined,
        `expands to more than ${limits.maxRatio} times its ${layer.size} compressed bytes, the limit of --max-layer-ratio (ROCKER_MAX_LAYER_RATIO)`,
      );
    }
    yield chunk;
  }
}
