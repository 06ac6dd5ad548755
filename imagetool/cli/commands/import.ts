// rocker-image import <source> [name]: copy an image from an oci: dir,
// oci-archive: or docker-archive: tar into the store.
import { normalizeReference } from '../../reference/index.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'import <source> [name]',
  describe: 'import an image from oci:<dir>[:<ref>], oci-archive:<tar>[:<ref>] or docker-archive:<tar>[:<name>]',
  async run(ctx, args) {
    const { importImage, parseLocation } = await import('../../store/transfer/index.js');
    const name = args.name ? normalizeReference(String(args.name)) : undefined;
    const stored = await importImage(await ctx.openStore(), parseLocation(String(args.source)), name, ctx.platform);
    ctx.out(stored);
  },
};
export default command;
