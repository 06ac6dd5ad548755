// The flags `create` and `run` share, and the request they make of them.
import { resolve } from 'node:path';
import type { FlagSpec, ParsedArgs } from './args.js';
import type { CommandContext } from './context.js';
import type { CreateRequest } from '../launch/create.js';

export const createFlags: FlagSpec[] = [
  { name: 'bundle', alias: ['b'], type: 'string', description: 'path to the root of the bundle directory, defaults to the current directory', default: '.' },
  { name: 'console-socket', type: 'string', description: 'path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console\'s pseudoterminal' },
  { name: 'pid-file', type: 'string', description: 'specify the file to write the process id to' },
  { name: 'no-pivot', type: 'boolean', description: 'do not use pivot root to jail process inside rootfs' },
  { name: 'no-new-keyring', type: 'boolean', description: 'do not create a new session keyring for the container' },
  { name: 'preserve-fds', type: 'number', description: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
];

/** nsexec changes directory, so paths from the command line are made absolute first. */
export function absolute(flag: ParsedArgs['flags'][string]): string | undefined {
  return typeof flag === 'string' && flag ? resolve(flag) : undefined;
}

export function createRequest(ctx: CommandContext, parsed: ParsedArgs, foreground: boolean, startRightAway: boolean): CreateRequest {
  const preserveFds = Number(parsed.flags['preserve-fds'] ?? 0);
  return {
    root: ctx.global.root,
    id: parsed.args[0],
    bundle: String(parsed.flags.bundle),
    pidFile: parsed.flags['pid-file'] as string | undefined,
    consoleSocket: absolute(parsed.flags['console-socket']),
    noPivot: Boolean(parsed.flags['no-pivot']),
    noNewKeyring: Boolean(parsed.flags['no-new-keyring']),
    preserveFds: Number.isInteger(preserveFds) && preserveFds > 0 ? preserveFds : 0,
    systemdCgroup: ctx.global.systemdCgroup,
    foreground,
    startRightAway,
    logger: ctx.logger,
  };
}
