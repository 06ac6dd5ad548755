// `spec`: write a default config.json into the bundle directory.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../../spec/default-spec.js';
import { RockerError, SystemError } from '../../errors.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'spec',
  usage: '',
  description: 'create a new specification file',
  flags: [
    { name: 'bundle', alias: ['b'], type: 'string', description: 'path to the root of the bundle directory' },
    { name: 'rootless', type: 'boolean', description: 'generate a configuration for a rootless container' },
  ],
  maxArgs: 0,
};

export async function run(_ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const file = join(String(parsed.flags.bundle ?? '.'), 'config.json');
  const text = JSON.stringify(defaultSpec({ rootless: Boolean(parsed.flags.rootless) }), null, '\t');
  try {
    writeFileSync(file, text, { flag: 'wx', mode: 0o666 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RockerError('File config.json exists. Remove it first');
    throw new SystemError('write', file, e as Error);
  }
  return 0;
}
