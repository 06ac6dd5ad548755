// rocker-image commit DIR REF: a bundle's changes as a new image.
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { ImageCommand } from '../context.js';

/** The commit flags, shared with `rocker commit`. */
export function commitFlags<T>(y: Argv<T>): Argv<T> {
  return y
    .option('message', { alias: 'm', type: 'string', describe: 'history comment for the new layer' })
    .option('author', { alias: 'a', type: 'string', describe: 'author of the new image' });
}

/** Commits bundle `dir` as `ref` with the flags' options; resolves the manifest digest. */
export async function commitWithFlags(dir: string, ref: string, a: Record<string, unknown>): Promise<string> {
  // Loaded here: main.ts loads every command module to start any one of them.
  const { commitBundle } = await import('../../commit/commit.js');
  const result = await commitBundle(dir, ref, {
    message: a.message === undefined ? undefined : String(a.message),
    author: a.author === undefined ? undefined : String(a.author),
  });
  return result.manifest.digest;
}

const command: ImageCommand = {
  command: 'commit <dir> <ref>',
  describe: "store a bundle's changes (its overlay upper dir) as a new layer and image",
  builder: commitFlags,
  async run(ctx, a) {
    ctx.out(await commitWithFlags(resolve(String(a.dir)), String(a.ref), a));
  },
};
export default command;
