// rocker-image commit DIR REF: a bundle's changes as a new image.
import { resolve } from 'node:path';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'commit <dir> <ref>',
  describe: "store a bundle's changes (its overlay upper dir) as a new layer and image",
  builder: (y) =>
    y
      .option('message', { alias: 'm', type: 'string', describe: 'history comment for the new layer' })
      .option('author', { type: 'string', describe: 'author of the new image' }),
  async run(ctx, a) {
    // Loaded here: main.ts loads every command module to start any one of them.
    const { commitBundle } = await import('../../commit/commit.js');
    const result = await commitBundle(resolve(String(a.dir)), String(a.ref), {
      message: a.message === undefined ? undefined : String(a.message),
      author: a.author === undefined ? undefined : String(a.author),
    });
    ctx.out(result.manifest.digest);
  },
};
export default command;
