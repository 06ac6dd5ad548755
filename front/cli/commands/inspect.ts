// rocker inspect CONTAINER...: the front's record, status and paths as JSON.
import { statusOf } from '../../lifecycle.js';
import type { FrontCommand } from '../context.js';

const command: FrontCommand = {
  command: 'inspect <containers..>',
  describe: 'show containers in JSON',
  async run(ctx, a) {
    const out = [];
    for (const ref of a.containers as string[]) {
      const c = await ctx.container(String(ref));
      const { dir: _dir, record: _record, ...paths } = ctx.containers.paths(c.id);
      out.push({ ...c, state: await statusOf(ctx.containers, c, c.id), paths });
    }
    ctx.out(JSON.stringify(out, null, 2));
  },
};
export default command;
