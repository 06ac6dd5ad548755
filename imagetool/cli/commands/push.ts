// rocker-image push REF [DEST]: upload a stored image to a registry.
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'push <image> [destination]',
  describe: 'push an image from the store to a registry (destination defaults to its name)',
  builder: (y) => y.option('chunk-size', { type: 'number', describe: 'upload blobs in chunks of this many bytes (default: one request per blob)' }),
  async run(ctx, a) {
    // Loaded here: main.ts loads every command module to start any one of them.
    const { push } = await import('../../push/push.js');
    const store = await ctx.openStore();
    const result = await push(store, String(a.image), a.destination === undefined ? undefined : String(a.destination), {
      platform: ctx.platform,
      registries: await ctx.registries(),
      insecureRegistries: ctx.global['insecure-registry'],
      chunkSize: a['chunk-size'] === undefined ? undefined : Number(a['chunk-size']),
      onBlob: (d, outcome) => {
        if (!ctx.quiet) process.stderr.write(`${d.digest.slice(7, 19)}: ${outcome}\n`);
      },
    });
    ctx.out(`${result.destination}@${result.digest}`);
  },
};
export default command;
