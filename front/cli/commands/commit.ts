// rocker commit [-m] [-a] [-p] CONTAINER REF: rocker-image's commit of the container's bundle
// (its overlay upper dir), paused meanwhile as docker does so the layer is consistent.
import { commitFlags, commitWithFlags } from '../../../imagetool/cli/commands/commit.js';
import { statusOf } from '../../lifecycle.js';
import { runtimeOk } from '../../runtime.js';
import type { FrontCommand } from '../context.js';

const command: FrontCommand = {
  command: 'commit <container> <ref>',
  describe: "store a container's changes as a new image",
  builder: (y) => commitFlags(y).option('pause', { alias: 'p', type: 'boolean', default: true, describe: 'pause a running container during the commit' }),
  async run(ctx, a) {
    const c = await ctx.container(String(a.container));
    const pause = a.pause && (await statusOf(ctx.containers, c, c.id)).state === 'running';
    if (pause) await runtimeOk(c, ['pause', c.id]);
    try {
      ctx.out(await commitWithFlags(ctx.containers.paths(c.id).bundle, String(a.ref), a));
    } finally {
      if (pause) await runtimeOk(c, ['resume', c.id]);
    }
  },
};
export default command;
