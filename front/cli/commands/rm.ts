// rocker rm [-f] CONTAINER...: also a half-made container (no record, no monitor).
import { remove } from '../../lifecycle.js';
import type { FrontCommand } from '../context.js';

const command: FrontCommand = {
  command: 'rm <containers..>',
  describe: 'remove containers (-f: running ones too)',
  builder: (y) =>
    y
      .option('force', { alias: 'f', type: 'boolean', describe: 'kill a running container first' })
      // Anonymous volumes (the image's Config.Volumes) live in the bundle: rm always removes them.
      .option('volumes', { alias: 'v', type: 'boolean', describe: "accepted as docker's: the image's anonymous volumes are always removed with the container" }),
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      await remove(ctx.containers, await ctx.containers.find(String(ref)), Boolean(a.force));
      ctx.out(String(ref));
    }
  },
};
export default command;
