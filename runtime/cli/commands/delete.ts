// `delete [--force] <id>`: destroy a stopped container (launch/delete.ts); --force
// kills a live one first, and an unknown id is then not an error.
import { deleteContainer } from '../../launch/delete.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'delete',
  usage: '<container-id>',
  description: 'delete any resources held by the container often used with detached container',
  flags: [{ name: 'force', alias: ['f'], type: 'boolean', description: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }],
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  await deleteContainer(ctx.global.root, parsed.args[0], Boolean(parsed.flags.force), ctx.global.systemdCgroup, ctx.logger);
  return 0;
}
