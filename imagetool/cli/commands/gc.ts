// rocker-image gc: remove blobs no ref (or running pull) references.
import { humanSize } from '../progress.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'gc',
  describe: 'remove unreferenced blobs from the store',
  async run(ctx) {
    const { removed, bytes } = await (await ctx.openStore()).gc();
    if (ctx.quiet) return;
    for (const d of removed) ctx.out(`deleted: ${d}`);
    ctx.out(`Removed ${removed.length} blobs, ${humanSize(bytes)}`);
  },
};
export default command;
