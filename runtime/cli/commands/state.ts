// `state <id>`: the runtime-spec state JSON, indented like runc's, no trailing newline.
import { containerDir } from '../../state/container-dir.js';
import { readState } from '../../state/state-file.js';
import { deriveStatus } from '../../state/status.js';
import { ociState } from '../../state/oci-state.js';
import { writeOut } from '../output.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'state',
  usage: '<container-id>',
  description: 'output the state of a container',
  flags: [],
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const cd = containerDir(ctx.global.root, parsed.args[0]);
  const st = readState(cd);
  writeOut(JSON.stringify(ociState(st, deriveStatus(cd, st)), null, 2));
  return 0;
}
