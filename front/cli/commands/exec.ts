// rocker exec [-i] [-t] [-d] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND...:
// the runtime's exec, names in -u looked up in the container's own /etc/passwd.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolveUser } from '../../../imagetool/bundle/user.js';
import { UsageError } from '../../../runtime/errors.js';
import type { FrontCommand } from '../context.js';

const list = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

const command: FrontCommand = {
  command: 'exec <container> [args..]',
  describe: 'run a command in a running container',
  builder: (y) =>
    y
      .option('interactive', { alias: 'i', type: 'boolean', describe: 'keep stdin attached' })
      .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a terminal' })
      .option('detach', { alias: 'd', type: 'boolean', describe: 'run in the background' })
      .option('env', { alias: 'e', type: 'string', describe: 'set an environment variable KEY=VALUE (repeatable)' })
      .option('user', { alias: 'u', type: 'string', describe: 'user[:group] or uid[:gid] (names from the container)' })
      .option('workdir', { alias: 'w', type: 'string', describe: 'working directory' }),
  async run(ctx, a) {
    const c = await ctx.container(String(a.container));
    const args = list(a.args);
    if (!args.length) throw new UsageError('exec needs a command');
    const flags: string[] = [];
    for (const e of list(a.env)) flags.push('--env', e);
    if (a.user !== undefined) {
      const u = await resolveUser(`${ctx.containers.paths(c.id).bundle}/rootfs`, String(a.user));
      flags.push('--user', `${u.uid}:${u.gid}`, ...(u.additionalGids ?? []).flatMap((g) => ['--additional-gids', String(g)]));
    }
    if (a.workdir !== undefined) flags.push('--cwd', String(a.workdir));
    if (a.tty) flags.push('--tty');
    if (a.detach) flags.push('--detach');
    const [cmd, ...pre] = c.runtime;
    // The runtime relays the terminal (-t) or passes our stdio on; stdin only with -i.
    const stdin = a.interactive ? 'inherit' : 'ignore';
    const child = spawn(cmd, [...pre, '--root', c.runtimeRoot, 'exec', ...flags, c.id, ...args], { stdio: a.detach ? 'ignore' : [stdin, 'inherit', 'inherit'] });
    // The runtime forwards signals to the process; ours must not end us first.
    const ignore = () => {};
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, ignore);
    return new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? constants.signals[sig] : 0)));
    });
  },
};
export default command;
