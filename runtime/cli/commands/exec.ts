// `exec <id> [command...]` or `exec --process FILE|- <id>`: run a new process
// in a running container, with runc's flags layered on the container's own
// process. A failed exec exits 255, like runc.
import { readState } from '../../state/state-file.js';
import { containerDir } from '../../state/container-dir.js';
import { execInContainer } from '../../launch/exec.js';
import { NsexecChannel } from '../../launch/channel.js';
import { RockerError, UsageError } from '../../errors.js';
import { absolute } from '../create-flags.js';
import { unsupportedConfinement } from '../../spec/support.js';
import type { OciProcess } from '../../spec/types.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'exec',
  usage: '<container-id> <command> [command options]  || -p process.json <container-id>',
  description: 'execute new process inside the container',
  flags: [
    { name: 'console-socket', type: 'string', description: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" },
    { name: 'cwd', type: 'string', description: 'current working directory in the container' },
    { name: 'env', alias: ['e'], type: 'list', description: 'set environment variables' },
    { name: 'tty', alias: ['t'], type: 'boolean', description: 'allocate a pseudo-TTY' },
    { name: 'user', alias: ['u'], type: 'string', description: 'UID (format: <uid>[:<gid>])' },
    { name: 'additional-gids', alias: ['g'], type: 'list', description: 'additional gids' },
    { name: 'process', alias: ['p'], type: 'string', description: 'path to the process.json' },
    { name: 'detach', alias: ['d'], type: 'boolean', description: 'detach from the container\'s process' },
    { name: 'pid-file', type: 'string', description: 'specify the file to write the process id to' },
    { name: 'process-label', type: 'string', description: 'set the asm process label for the process commonly used with selinux' },
    { name: 'apparmor', type: 'string', description: 'set the apparmor profile for the process' },
    { name: 'no-new-privs', type: 'boolean', description: 'set the no new privileges value for the process' },
    { name: 'cap', alias: ['c'], type: 'list', description: 'add a capability to the bounding set for the process' },
    { name: 'preserve-fds', type: 'number', description: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', default: 0 },
    { name: 'cgroup', type: 'list', description: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' },
    { name: 'ignore-paused', type: 'boolean', description: 'allow exec in a paused container' },
  ],
  flagsEndAfterPositionals: 1,
  minArgs: 1,
};

function parseId(what: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`parsing ${raw} as ${what}: invalid syntax`);
  return Number(raw);
}

/**
 * `--cgroup [<controller>[,<controller>…]:]<path>`, repeatable: sub-cgroups of the
 * container's to run in, by controller ("" for every hierarchy). As runc, a path
 * without a controller prefix must be the only --cgroup, and a later one wins.
 */
function subCgroups(raw: string[]): Record<string, string> {
  const subs: Record<string, string> = {};
  for (const arg of raw) {
    const parts = arg.split(':');
    if (parts.length > 2) throw new UsageError(`invalid --cgroup argument: ${arg}`);
    if (parts.length === 1) {
      if (raw.length !== 1) throw new UsageError(`invalid --cgroup argument: ${arg} (missing <controller>: prefix)`);
      subs[''] = arg;
    } else {
      for (const ctrl of parts[0].split(',')) subs[ctrl] = parts[1];
    }
  }
  return subs;
}

/** The container's own process with the command line's overrides (runc's rules). */
function processFromFlags(base: OciProcess, parsed: ParsedArgs): OciProcess {
  const f = parsed.flags;
  const args = parsed.args.slice(1);
  if (args.length === 0) throw new UsageError('exec: process args cannot be empty');
  const p: OciProcess = structuredClone(base);
  p.args = args;
  delete p.commandLine;
  p.terminal = Boolean(f.tty);
  if (f.cwd) p.cwd = String(f.cwd);
  if (Array.isArray(f.env)) p.env = [...(p.env ?? []), ...f.env];
  if (f.user) {
    const [uid, gid] = String(f.user).split(':');
    p.user = { ...p.user, uid: parseId('uid', uid), ...(gid !== undefined ? { gid: parseId('gid', gid) } : {}) };
  }
  if (Array.isArray(f['additional-gids'])) {
    p.user = { ...p.user, additionalGids: f['additional-gids'].map((g) => parseId('gid', g)) };
  }
  if (Array.isArray(f.cap)) {
    const caps = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), ...f.cap];
  }
  if (f['no-new-privs']) p.noNewPrivileges = true;
  if (f.apparmor) p.apparmorProfile = String(f.apparmor);
  if (f['process-label']) p.selinuxLabel = String(f['process-label']);
  return p;
}

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0];
  const asked = Number(parsed.flags['preserve-fds'] ?? 0);
  const preserveFds = Number.isInteger(asked) && asked > 0 ? asked : 0;
  // nsexec gets going (two execs and their dynamic linking) while the state is read
  // and the process worked out; it waits for `init`, and is killed if there is none.
  const channel = NsexecChannel.spawn(preserveFds);
  try {
    const cd = containerDir(ctx.global.root, id);
    // A bad process.json is reported before the container is even looked up.
    const fromFile = parsed.flags.process
      ? (await import('../../spec/process.js')).loadProcess(String(parsed.flags.process))
      : undefined;
    const confinement = unsupportedConfinement(fromFile ?? { apparmorProfile: parsed.flags.apparmor, selinuxLabel: parsed.flags['process-label'] });
    if (confinement) throw new UsageError(confinement.message);
    const state = readState(cd);
    let proc: OciProcess;
    if (fromFile) {
      proc = fromFile;
      if (parsed.flags.tty) proc.terminal = true;
    } else {
      if (!state.config.process) throw new UsageError('the container has no process to base the exec on: use --process');
      proc = processFromFlags(state.config.process, parsed);
    }
    const detach = Boolean(parsed.flags.detach);
    const consoleSocket = absolute(parsed.flags['console-socket']);
    if (proc.terminal && !consoleSocket && detach) {
      throw new UsageError('cannot allocate tty if rocker-runtime will detach without setting console socket');
    }
    return await execInContainer({
      channel,
      cd,
      state,
      process: proc,
      detach,
      consoleSocket,
      pidFile: parsed.flags['pid-file'] as string | undefined,
      preserveFds,
      ignorePaused: Boolean(parsed.flags['ignore-paused']),
      subCgroups: Array.isArray(parsed.flags.cgroup) ? subCgroups(parsed.flags.cgroup) : {},
    });
  } catch (e) {
    channel.abort();
    // every failure of exec itself is 255 (runc): the process's own status is the 0-254 range
    const err = e instanceof RockerError ? e : new RockerError(e instanceof Error ? e.message : String(e));
    err.exitCode = 255;
    throw err;
  }
}
