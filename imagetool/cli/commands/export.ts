// rocker-image export <image> <destination>: write a stored image as an oci:
// dir, oci-archive: or docker-archive: tar.
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'export <image> <destination>',
  describe: 'export an image to oci:<dir>[:<ref>], oci-archive:<tar>[:<ref>] or docker-archive:<tar>[:<name>]',
  async run(ctx, args) {
    const { exportImage, parseLocation } = await import('../../store/transfer/index.js');
    const store = await ctx.openStore();
    const img = await store.resolve(String(args.image), ctx.platform);
    await exportImage(store, img, parseLocation(String(args.destination)));
  },
};
export default command;
