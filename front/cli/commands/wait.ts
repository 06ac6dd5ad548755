// rocker wait CONTAINER...: prints each exit code once the container has exited.
import { RockerError } from '../../../runtime/errors.js';
import { waitExit } from '../../lifecycle.js';
import type { FrontCommand } from '../context.js';

const command: FrontCommand = {
  command: 'wait <containers..>',
  describe: 'wait for containers to exit and print their exit codes',
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      const c = await ctx.container(String(ref));
      const exit = await waitExit(ctx.containers, c);
      if (!exit) throw new RockerError(`container ${c.name} has no monitor and no recorded exit`);
      ctx.out(String(exit.exitCode));
    }
  },
};
export default command;
