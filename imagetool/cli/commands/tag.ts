// rocker-image tag <source> <target>: another ref name for a stored image.
import { normalizeReference } from '../../reference/index.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'tag <source> <target>',
  describe: 'add a name for an image in the store',
  async run(ctx, args) {
    const store = await ctx.openStore();
    const target = normalizeReference(String(args.target));
    const img = await store.resolve(String(args.source), ctx.platform);
    await store.setRef(target, img.name ? img.descriptor : img.manifestDescriptor);
  },
};
export default command;
