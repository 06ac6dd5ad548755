// `kill <id> [signal]`: signal the init, or with --all every process in the
// container's cgroup. A stopped container is an error ("container not running").
import { containerDir } from '../../state/container-dir.js';
import { readState } from '../../state/state-file.js';
import { deriveStatus } from '../../state/status.js';
import { loadCgroups } from '../../state/cgroups.js';
import { parseSignal } from '../../state/signals.js';
import { StateConflictError, SystemError } from '../../errors.js';
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
  const signal = parseSignal(rawSignal);
  const cd = containerDir(ctx.global.root, id);
  const st = readState(cd);
  const status = await deriveStatus(cd, st);
  if (status === 'stopped') throw new StateConflictError('container not running');
  const cg = parsed.flags.all ? await loadCgroups(st.cgroupPaths) : undefined;
  const pids = cg ? await cg.pids() : [st.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new SystemError('kill', String(pid), e as Error);
    }
  }
  return 0;
}
