// `resume <id>`: thaw a paused container.
import { resumeContainer } from '../../cgroups/container.js';
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
  await resumeContainer(ctx.global.root, parsed.args[0]);
  return 0;
}
