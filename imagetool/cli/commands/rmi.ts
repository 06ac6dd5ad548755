// rocker-image rmi <image...>: remove names, then the blobs no name needs.
import { UsageError } from '../../../runtime/errors.js';
import { humanSize } from '../progress.js';
import type { Context, ImageCommand } from '../context.js';
import type { Store } from '../../store/index.js';

async function namesOf(store: Store, id: string, ctx: Context): Promise<string[]> {
  const img = await store.resolve(id, ctx.platform);
  return (await store.listRefs()).filter((r) => r.descriptor.digest === img.descriptor.digest).map((r) => r.name);
}

const command: ImageCommand = {
  command: 'rmi <images..>',
  describe: 'remove images (by name or id) from the store',
  builder: (y) =>
    y
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'remove every name of an image given by id' })
      .option('prune', { type: 'boolean', default: true, describe: 'remove blobs no longer referenced' }),
  async run(ctx, args) {
    const store = await ctx.openStore();
    let status = 0;
    for (const input of args.images as string[]) {
      try {
        // A name removes that name; an id removes every name of the image (docker asks for -f then).
        const ref = await store.findRef(String(input));
        const names = ref ? [ref.name] : await namesOf(store, String(input), ctx);
        if (names.length > 1 && !args.force) {
          throw new UsageError(`${input} is referenced by ${names.length} names (${names.join(', ')}); use --force`);
        }
        for (const name of names) {
          await store.removeRef(name);
          if (!ctx.quiet) ctx.out(`Untagged: ${name}`);
        }
      } catch (e) {
        process.stderr.write(`rocker-image: ${(e as Error).message}\n`);
        status = 1;
      }
    }
    if (args.prune) {
      const { removed, bytes } = await store.gc();
      if (!ctx.quiet && removed.length) ctx.out(`Deleted ${removed.length} blobs (${humanSize(bytes)})`);
    }
    return status;
  },
};
export default command;
