// rocker-image pull <image>: fetch an image from its registry into the store.
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'pull <image>',
  describe: 'pull an image from a registry into the store',
  builder: (y) =>
    y
      .option('concurrency', { type: 'number', default: 8, describe: 'layers downloaded at once' })
      .option('unpack', { type: 'boolean', default: true, describe: 'unpack the layers for bundles while they download (--no-unpack: store them only)' }),
  async run(ctx, args) {
    const { pullWithProgress } = await import('../pull-image.js');
    const result = await pullWithProgress(ctx, await ctx.openStore(), String(args.image), {
      concurrency: Number(args.concurrency) || 1,
      unpack: args.unpack !== false,
    });
    ctx.out(result.name);
  },
};
export default command;
