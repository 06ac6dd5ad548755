// `resume <id>`: thaw a paused container.
import { containerCgroup } from '../../cgroups/container.js';
import { lockContainer } from '../../state/lock.js';
import { StateConflictError } from '../../errors.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'resume',
  usage: '<container-id>',
  description: 'resumes all processes that have been previously paused',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0];
  const lock = await lockContainer(ctx.global.root, id);
  try {
    const c = await containerCgroup(ctx.global.root, id);
    if (c.status !== 'paused') throw new StateConflictError('container not paused');
    await c.cg.thaw();
    return 0;
  } finally {
    lock.release();
  }
}
