// rocker-image pull <image>: fetch an image from its registry into the store.
import { makeProgress } from '../progress.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'pull <image>',
  describe: 'pull an image from a registry into the store',
  builder: (y) =>
    y
      .option('concurrency', { type: 'number', default: 8, describe: 'layers downloaded at once' })
      .option('unpack', { type: 'boolean', default: true, describe: 'unpack the layers for bundles while they download (--no-unpack: store them only)' }),
  async run(ctx, args) {
    const { pull } = await import('../../registry/pull.js');
    const store = await ctx.openStore();
    const result = await pull(store, String(args.image), {
      platform: ctx.platform,
      registries: await ctx.registries(),
      insecureRegistries: ctx.global['insecure-registry'],
      concurrency: Math.max(1, Number(args.concurrency) || 1),
      unpack: args.unpack !== false,
      limits: ctx.layerLimits(),
      progress: makeProgress(ctx.quiet),
    });
    if (!ctx.quiet) {
      ctx.out(`Digest: ${result.sourceDigest}`);
      ctx.out(`Status: ${result.downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${result.name}`);
    }
    ctx.out(result.name);
  },
};
export default command;
