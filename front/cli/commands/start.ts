// rocker start [-a] [-i] CONTAINER...: a new run of a stopped container's bundle
// (-a/-i: attached, as run is); restart: stop with the grace period first.
import type { Argv } from 'yargs';
import { UsageError } from '../../../runtime/errors.js';
import { start, stop } from '../../lifecycle.js';
import type { FrontArgs, FrontCommand } from '../context.js';
import { attachOptions, attachTo, detachKeysFlag, type Attached } from './attach.js';
import { graceFlag } from './stop.js';

export const restart: FrontCommand = {
  command: 'restart <containers..>',
  describe: 'stop containers (StopSignal, a grace period, SIGKILL), then start them',
  builder: graceFlag,
  async run(ctx, a) {
    for (const ref of a.containers as string[]) {
      const c = await ctx.container(String(ref));
      await stop(ctx.containers, c, Number(a.time));
      await start(ctx.containers, c);
      ctx.out(String(ref));
    }
  },
};

const command: FrontCommand = {
  command: 'start <containers..>',
  describe: 'start stopped containers (a new run of the same bundle; the log goes on)',
  builder: (y) =>
    detachKeysFlag(y)
      .option('attach', { alias: 'a', type: 'boolean', describe: "attach our stdout and stderr; the container's exit code is ours" })
      .option('interactive', { alias: 'i', type: 'boolean', describe: "attach our stdin too (a container run with -i)" }) as unknown as Argv<FrontArgs>,
  async run(ctx, a) {
    const refs = (a.containers as string[]).map(String);
    if (!a.attach && !a.interactive) {
      for (const ref of refs) {
        await start(ctx.containers, await ctx.container(ref));
        ctx.out(ref);
      }
      return;
    }
    if (refs.length > 1) throw new UsageError('start -a/-i takes one container');
    const c = await ctx.container(refs[0]);
    // This run's output: what the log holds from before is the last run's.
    const o = await attachOptions(ctx.containers, c, { stdin: Boolean(a.interactive), 'detach-keys': a['detach-keys'], since: new Date().toISOString() });
    let attached: Attached | undefined;
    try {
      // Attached before the runtime's start, as run is; a running container is attached as it is.
      if (!(await start(ctx.containers, c, async () => void (attached = await attachTo(ctx.containers, c, o))))) attached = await attachTo(ctx.containers, c, o);
    } catch (err) {
      attached?.close();
      throw err;
    }
    const r = await attached!.finish();
    return r === 'detached' ? 0 : r;
  },
};
export default command;
