// `pause <id>`: freeze every process of the container (v1 freezer, or cgroup.freeze on cgroup2).
import { pauseContainer } from '../../cgroups/container.js';
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
  await pauseContainer(ctx.global.root, parsed.args[0]);
  return 0;
}
