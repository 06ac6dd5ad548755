// rocker start|restart CONTAINER...: a new run of a stopped container's bundle
// (restart: stop with the grace period first).
import { start, stop } from '../../lifecycle.js';
import type { FrontCommand } from '../context.js';
import { graceFlag } from './stop.js';

export const restart: FrontCommand = {
  command: 'restart <containers..>',
  describe: 'stop containers (StopSignal, a grace period, SIGKILL), then start them',
  builder: graceFlag,
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      const c = await ctx.container(String(ref));
      await stop(ctx.containers, c, Number(a.time));
      await start(ctx.containers, c);
      ctx.out(String(ref));
    }
  },
};

const command: FrontCommand = {
  command: 'start <containers..>',
  describe: 'start stopped containers (a new run of the same bundle; the log goes on)',
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      await start(ctx.containers, await ctx.container(String(ref)));
      ctx.out(String(ref));
    }
  },
};
export default command;
