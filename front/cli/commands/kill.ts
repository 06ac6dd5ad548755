// rocker kill [-s SIGNAL] CONTAINER...
import { kill } from '../../lifecycle.js';
import type { FrontCommand } from '../context.js';

const command: FrontCommand = {
  command: 'kill <containers..>',
  describe: 'send a signal to containers (default SIGKILL)',
  builder: (y) => y.option('signal', { alias: 's', type: 'string', default: 'SIGKILL', describe: 'the signal' }),
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      await kill(await ctx.container(String(ref)), String(a.signal));
      ctx.out(String(ref));
    }
  },
};
export default command;
