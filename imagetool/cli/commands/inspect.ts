// rocker-image inspect <image>: the stored manifest and config as JSON.
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'inspect <image>',
  describe: 'show an image\'s manifest and config as JSON',
  builder: (y) =>
    y
      .option('manifest', { type: 'boolean', describe: 'print only the manifest' })
      .option('config', { type: 'boolean', describe: 'print only the config' })
      .conflicts('manifest', 'config'),
  async run(ctx, args) {
    const img = await (await ctx.openStore()).resolve(String(args.image), ctx.platform);
    const doc = args.manifest
      ? img.manifest
      : args.config
        ? img.config
        : { Name: img.name ?? null, Id: img.configDescriptor.digest, Digest: img.manifestDescriptor.digest, Descriptor: img.descriptor, Manifest: img.manifest, Config: img.config };
    ctx.out(JSON.stringify(doc, null, 2));
  },
};
export default command;
