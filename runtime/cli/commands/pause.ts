// `pause <id>`: freeze every process of the container (v1 freezer, or cgroup.freeze on cgroup2).
import { containerCgroup } from '../../cgroups/container.js';
import { lockContainer } from '../../state/lock.js';
import { StateConflictError } from '../../errors.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'pause',
  usage: '<container-id>',
  description: 'pause suspends all processes inside the container',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0];
  const lock = await lockContainer(ctx.global.root, id);
  try {
    const c = await containerCgroup(ctx.global.root, id);
    if (c.status !== 'running' && c.status !== 'created') throw new StateConflictError('container not running');
    await c.cg.freeze();
    return 0;
  } finally {
    lock.release();
  }
}
