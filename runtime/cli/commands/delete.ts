// `delete [--force] <id>`: destroy a stopped (or created) container, running
// its poststop hooks; --force kills a live one first, and an unknown id is
// then not an error (containerd's cleanup shim relies on that).
import { containerDir } from '../../state/container-dir.js';
import { readState } from '../../state/state-file.js';
import { deriveStatus } from '../../state/status.js';
import { lockContainer } from '../../state/lock.js';
import { teardown, teardownBroken, removeStateDir } from '../../state/destroy.js';
import { NotFoundError, StateConflictError, StateFileError } from '../../errors.js';
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
  const id = parsed.args[0];
  const force = Boolean(parsed.flags.force);
  const cd = containerDir(ctx.global.root, id);
  const lock = await lockContainer(ctx.global.root, id);
  try {
    let st;
    try {
      st = readState(cd);
    } catch (e) {
      // A runtime killed between mkdir and the first state.json leaves an empty dir.
      if (e instanceof NotFoundError && force) {
        removeStateDir(cd);
        return 0;
      }
      if (e instanceof StateFileError && force) {
        await teardownBroken(cd, e.salvage, ctx.global.systemdCgroup, (m) => ctx.logger.warn(m));
        return 0;
      }
      throw e;
    }
    const status = deriveStatus(cd, st);
    // As with runc, a created container (its init never ran user code) is deleted without
    // --force; a creating one (no init recorded yet, or its creator was killed) needs --force.
    if (status !== 'stopped' && status !== 'created' && !force) {
      throw new StateConflictError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    await teardown(cd, st, (m) => ctx.logger.warn(m));
    return 0;
  } finally {
    lock.release();
  }
}
