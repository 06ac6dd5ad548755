// rocker-image gc: remove blobs no ref (or running pull) references.
import { humanSize } from '../progress.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'gc',
  describe: 'remove unreferenced blobs and unused layer snapshots from the store',
  async run(ctx) {
    const store = await ctx.openStore();
    const { removed, bytes } = await store.gc();
    const { pruneSnapshots } = await import('../../unpack/snapshot-gc.js');
    const snapshots = await pruneSnapshots(store);
    if (ctx.quiet) return;
    for (const d of removed) ctx.out(`deleted: ${d}`);
    ctx.out(`Removed ${removed.length} blobs, ${humanSize(bytes)}`);
    if (snapshots.length) ctx.out(`Removed ${snapshots.length} snapshots`);
  },
};
export default command;
