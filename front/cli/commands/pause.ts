// rocker pause|unpause CONTAINER...: the container's own runtime's pause/resume (the freezer cgroup).
import { runtimeOk } from '../../runtime.js';
import type { FrontCommand } from '../context.js';

const verb = (name: string, runtimeVerb: string, describe: string): FrontCommand => ({
  command: `${name} <containers..>`,
  describe,
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      const c = await ctx.container(String(ref));
      await runtimeOk(c, [runtimeVerb, c.id]);
      ctx.out(String(ref));
    }
  },
});

export const unpause = verb('unpause', 'resume', 'resume the processes of paused containers');
export default verb('pause', 'pause', 'freeze every process of containers');
