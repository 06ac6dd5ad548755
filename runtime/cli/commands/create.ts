// `create <id>`: set the container up and leave its init waiting for `start`.
import { createContainer } from '../../launch/create.js';
import { createFlags, createRequest } from '../create-flags.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'create',
  usage: '<container-id>',
  description: 'create a container',
  flags: createFlags,
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const created = await createContainer(createRequest(ctx, parsed, false, false));
  created.channel.close();
  return 0;
}
