// rocker top CONTAINER [ps OPTIONS]: the runtime's `ps` (ps(1) rows of the container's processes).
import { runtimeOk } from '../../runtime.js';
import type { FrontCommand } from '../context.js';

const command: FrontCommand = {
  command: 'top <container> [args..]',
  describe: "show a container's processes (ps options after the container, default -ef)",
  builder: (y) => y,
  async run(ctx, a) {
    const c = await ctx.container(String(a.container));
    process.stdout.write(await runtimeOk(c, ['ps', c.id, ...(a.args as string[] ?? []).map(String)]));
  },
};
export default command;
