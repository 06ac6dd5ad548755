// rocker: the origin project's docker-style commands over rocker-image (images,
// bundles, networks) and a runc-compatible runtime, with a monitor per container.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { RockerError, UsageError } from '../../runtime/errors.js';
import { FrontContext, type FrontArgs, type FrontCommand } from './context.js';
import run from './commands/run.js';
import ps from './commands/ps.js';
import logs from './commands/logs.js';
import stop from './commands/stop.js';
import kill from './commands/kill.js';
import rm from './commands/rm.js';
import wait from './commands/wait.js';
import inspect from './commands/inspect.js';
import exec from './commands/exec.js';
import pause, { unpause } from './commands/pause.js';
import top from './commands/top.js';
import start, { restart } from './commands/start.js';
import commit from './commands/commit.js';
import attach from './commands/attach.js';

const COMMANDS: FrontCommand[] = [run, attach, exec, ps, logs, stop, kill, rm, wait, inspect, pause, unpause, top, start, restart, commit];

/** Verbs whose operand (IMAGE, CONTAINER) is followed by a command: what comes after it is never rocker's. */
const COMMAND_VERBS = new Map<string, FrontCommand>([['run', run], ['exec', exec], ['top', top]]);

/** Image and network verbs are the image tool's own, run with the same --root. */
const IMAGE_VERBS = new Set(['images', 'pull', 'push', 'rmi', 'tag', 'login', 'logout', 'network']);
const IMAGE_TOOL = fileURLToPath(new URL('../../../bin/rocker-image', import.meta.url));

function globals<T>(y: Argv<T>) {
  return y
    .option('root', { type: 'string', default: '/var/lib/rocker', describe: 'image store; containers live in <root>/containers', global: true })
    .option('runtime', { type: 'string', default: 'rocker-runtime', describe: 'runc-compatible runtime for new containers (rocker-runtime, runc, crun or a path)', global: true })
    .option('runtime-root', { type: 'string', default: '/run/rocker-front/runtime', describe: "the runtime's --root for new containers", global: true });
}

/** Flags (with their values) before the first operand; the rest is the operand and what follows. */
function splitAtOperand(args: string[], takesValue: (flag: string) => boolean): [string[], string[]] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (!a.startsWith('-') || a === '-') return [args.slice(0, i + 1), args.slice(i + 1)];
    if (a.startsWith('--')) {
      if (!a.includes('=') && takesValue(a.slice(2))) i++;
      continue;
    }
    // A cluster of short flags (-dit, -p8080:80): a value-taking one ends it.
    for (let j = 1; j < a.length; j++) {
      if (!takesValue(a[j])) continue;
      if (j === a.length - 1) i++;
      break;
    }
  }
  return [args, []];
}

function report(e: unknown): number {
  process.stderr.write(`rocker: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.ROCKER_DEBUG && e instanceof Error && !(e instanceof RockerError)) process.stderr.write(`${e.stack}\n`);
  return e instanceof RockerError ? e.exitCode : 125;
}

async function main(argv: string[]): Promise<number> {
  const { default: yargs } = await import('yargs');
  // The global options come before the verb; find it without parsing the verb's own flags.
  const [head] = splitAtOperand(argv, (f) => ['root', 'runtime', 'runtime-root'].includes(f));
  const verb = head.at(-1);
  if (verb && IMAGE_VERBS.has(verb)) {
    const g = globals(yargs(head.slice(0, -1))).parseSync() as unknown as FrontArgs;
    const r = spawnSync(IMAGE_TOOL, ['--root', g.root, ...argv.slice(head.length - 1)], { stdio: 'inherit' });
    return r.status ?? 125;
  }
  let operandTail: string[] = [];
  const withCommand = verb === undefined ? undefined : COMMAND_VERBS.get(verb);
  if (withCommand) {
    const probe = withCommand.builder!(globals(yargs([])) as unknown as Argv<FrontArgs>) as unknown as { getOptions(): { boolean: string[]; alias: Record<string, string[]> } };
    const opts = probe.getOptions();
    const booleans = new Set([...opts.boolean, ...opts.boolean.flatMap((b) => opts.alias[b] ?? []), 'help']);
    const [flags, tail] = splitAtOperand(argv.slice(head.length), (f) => !booleans.has(f));
    argv = [...head, ...flags];
    operandTail = tail;
  }
  let status = 0;
  let cli = globals(yargs(argv))
    .scriptName('rocker')
    .usage('$0 [global options] <command> [options]\n\nImage and network commands (images, pull, push, rmi, tag, login, logout, network) are rocker-image\'s.')
    .demandCommand(1, 'a command is required')
    .strict()
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg} (see rocker --help)`);
    }) as unknown as Argv<FrontArgs>;
  for (const cmd of COMMANDS) {
    cli = cli.command(cmd.command, cmd.describe, (y: Argv<FrontArgs>) => (cmd.builder ? cmd.builder(y) : y), async (args: Record<string, unknown>) => {
      if (cmd === withCommand) args.args = operandTail;
      status = (await cmd.run(new FrontContext(args as unknown as FrontArgs), args)) ?? 0;
    });
  }
  try {
    await cli.parseAsync();
  } catch (e) {
    return report(e);
  }
  return status;
}

// Exits explicitly: an attached terminal (run -it) would keep the process alive.
// Our stdout and stderr are written synchronously on Linux (files, pipes, terminals).
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => process.exit(report(e)),
);
