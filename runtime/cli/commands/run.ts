// `run <id>`: create and start; in the foreground (the default) the output
// and exit status of the container pass through and the container is deleted
// when it exits (unless --keep: then it stays, stopped, with its cgroups, for
// `delete`); with -d the runtime returns once it runs. Without poststart
// hooks there is no start step: the init is not held on an exec fifo.
import { existsSync } from 'node:fs';
import { createContainer } from '../../launch/create.js';
import { startContainer } from '../../launch/start.js';
import { waitForeground } from '../../launch/foreground.js';
import { lockContainer } from '../../state/lock.js';
import { teardown } from '../../state/destroy.js';
import { createFlags, createRequest } from '../create-flags.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'run',
  usage: '<container-id>',
  description: 'create and run a container',
  flags: [
    ...createFlags,
    { name: 'detach', alias: ['d'], type: 'boolean', description: 'detach from the container\'s process' },
    { name: 'keep', type: 'boolean', description: 'do not delete the container after it exits' },
  ],
  minArgs: 1,
  maxArgs: 1,
};

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const detach = Boolean(parsed.flags.detach);
  const req = createRequest(ctx, parsed, !detach, true);
  const { cd, state, channel, release } = await createContainer(req);
  const keep = Boolean(parsed.flags.keep);
  const destroy = async (): Promise<void> => {
    if (keep) return;
    const lock = await lockContainer(req.root, req.id);
    try {
      // A `delete --force` meanwhile may have removed it already.
      if (existsSync(cd.stateFile)) await teardown(cd, state, (m) => ctx.logger.warn(m));
    } finally {
      lock.release();
    }
  };
  if (detach) {
    if (release === 'fifo') {
      channel.close();
      await startContainer(req.root, req.id, ctx.logger);
      return 0;
    }
    // The init's end of the socket closes at its execve (close-on-exec); an `error`
    // instead means it failed on the way there.
    try {
      await channel.expect('eof');
    } catch (e) {
      await destroy();
      throw e;
    }
    return 0;
  }
  const exited = waitForeground(channel, state.pid, Boolean(state.config.process?.terminal && !req.consoleSocket));
  // Awaited below; a failed start must not turn its rejection into an unhandled one.
  exited.catch(() => undefined);
  let status: number;
  try {
    if (release === 'fifo') await startContainer(req.root, req.id, ctx.logger);
    else channel.send({ type: 'continue' });
    status = await exited;
  } finally {
    await destroy();
  }
  return status;
}
