// rocker stop [-t N] CONTAINER...: the image's StopSignal (else SIGTERM), N seconds, then SIGKILL.
import { stop } from '../../lifecycle.js';
import type { Argv } from 'yargs';
import type { FrontArgs, FrontCommand } from '../context.js';

/** -t: stop's and restart's grace period. */
export const graceFlag = (y: Argv<FrontArgs>) => y.option('time', { alias: 't', type: 'number', default: 10, describe: 'seconds to wait before SIGKILL' });

const command: FrontCommand = {
  command: 'stop <containers..>',
  describe: 'stop containers: StopSignal, a grace period, then SIGKILL',
  builder: graceFlag,
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      await stop(ctx.containers, await ctx.container(String(ref)), Number(a.time));
      ctx.out(String(ref));
    }
  },
};
export default command;
