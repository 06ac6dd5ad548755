// `kill <id> [signal]`: signal the init, or with --all every process in the
// container's cgroup (launch/kill.ts).
import { parseSignal } from '../../state/signals.js';
import { killContainer } from '../../launch/kill.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'kill',
  usage: '<container-id> [signal]',
  description: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  flags: [{ name: 'all', alias: ['a'], type: 'boolean', description: 'send the specified signal to all processes inside the container' }],
  minArgs: 1,
  maxArgs: 2,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const [id, rawSignal = 'SIGTERM'] = parsed.args;
  await killContainer(ctx.global.root, id, parseSignal(rawSignal), Boolean(parsed.flags.all), ctx.logger);
  return 0;
}
