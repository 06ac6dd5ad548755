// A pull with the CLI's progress and status lines: `pull`, and `bundle` of an
// image the store does not have yet.
import type { Store } from '../store/index.js';
import type { PullResult } from '../registry/pull.js';
import type { Context } from './context.js';
import { makeProgress } from './progress.js';

export interface PullFlags {
  concurrency?: number;
  unpack?: boolean;
  /** Where progress and status lines go (default stdout, as `pull` prints them). */
  out?: NodeJS.WriteStream;
}

export async function pullWithProgress(ctx: Context, store: Store, image: string, o: PullFlags = {}): Promise<PullResult> {
  const out = o.out ?? process.stdout;
  const { pull } = await import('../registry/pull.js');
  const result = await pull(store, image, {
    platform: ctx.platform,
    registries: await ctx.registries(),
    insecureRegistries: ctx.global['insecure-registry'],
    concurrency: Math.max(1, o.concurrency ?? 8),
    unpack: o.unpack !== false,
    limits: ctx.layerLimits(),
    progress: makeProgress(ctx.quiet, out),
  });
  if (!ctx.quiet) {
    out.write(`Digest: ${result.sourceDigest}\n`);
    out.write(`Status: ${result.downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${result.name}\n`);
  }
  return result;
}
