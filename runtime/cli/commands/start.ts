// `start <id>`: run the user program of a created container.
import { startContainer } from '../../launch/start.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'start',
  usage: '<container-id>',
  description: 'executes the user defined process in a created container',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  await startContainer(ctx.global.root, parsed.args[0], ctx.logger);
  return 0;
}
