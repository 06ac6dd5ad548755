// `resume <id>`: thaw a paused container.
import { withLockedCgroup } from '../../cgroups/container.js';
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
  await withLockedCgroup(ctx.global.root, parsed.args[0], async (c) => {
    if (c.status !== 'paused') throw new StateConflictError('container not paused');
    await c.cg.thaw();
  });
  return 0;
}
