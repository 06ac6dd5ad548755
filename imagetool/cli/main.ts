// rocker-image entry point: global options, then one module per command.
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { RockerError, UsageError } from '../../runtime/errors.js';
import { Context, type GlobalArgs, type ImageCommand } from './context.js';
import { fastPath } from './fast-path.js';
import pull from './commands/pull.js';
import images from './commands/images.js';
import inspect from './commands/inspect.js';
import tag from './commands/tag.js';
import rmi from './commands/rmi.js';
import gc from './commands/gc.js';
import importCmd from './commands/import.js';
import exportCmd from './commands/export.js';
import login from './commands/login.js';
import logout from './commands/logout.js';
import bundle from './commands/bundle.js';
import unbundle from './commands/unbundle.js';
import commit from './commands/commit.js';
import push from './commands/push.js';
import network from './commands/network.js';

/** Every command; adding one is a module in commands/ and one entry here. */
const COMMANDS: ImageCommand[] = [pull, images, inspect, tag, rmi, gc, importCmd, exportCmd, login, logout, bundle, unbundle, commit, push, network];

function versionText(): string {
  try {
    const info = JSON.parse(readFileSync(new URL('../../build-info.json', import.meta.url), 'utf8')) as { version: string; commit: string };
    return `rocker-image version ${info.version}\ncommit: ${info.commit}`;
  } catch {
    // A tree built without `make` has no build-info.json.
    return 'rocker-image version unknown';
  }
}

function report(e: unknown): number {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`rocker-image: ${msg}\n`);
  if (process.env.ROCKER_DEBUG && e instanceof Error && !(e instanceof RockerError)) process.stderr.write(`${e.stack}\n`);
  return e instanceof RockerError ? e.exitCode : 1;
}

async function main(argv: string[]): Promise<number> {
  const fast = fastPath(argv);
  if (fast) {
    const cmd = COMMANDS.find((c) => c.command.split(' ')[0] === fast.verb)!;
    try {
      return (await cmd.run(new Context(fast.global), fast.args(cmd))) ?? 0;
    } catch (e) {
      return report(e);
    }
  }
  // Loaded only here: yargs alone takes longer to load than a fast-path command runs.
  const { default: yargs } = await import('yargs');
  let status = 0;
  let cli = yargs(argv)
    .scriptName('rocker-image')
    .usage('$0 [global options] <command> [options]')
    .option('root', { type: 'string', default: '/var/lib/rocker', describe: 'image store (an OCI layout)', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only essential output', global: true })
    // Repeatable, one value each: `array: true` would swallow the command name after it.
    .option('insecure-registry', { type: 'string', default: [] as string[], coerce: (v: unknown) => [v].flat().map(String), describe: 'registry host[:port] allowed over plain HTTP / unverified TLS (repeatable)', global: true })
    .option('platform', { type: 'string', describe: 'os/arch[/variant] to select (default: this host)', global: true })
    .option('max-layer-size', { type: 'string', describe: 'most bytes a layer may unpack to, e.g. 50G; 0: no limit (default 100G, env ROCKER_MAX_LAYER_SIZE)', global: true })
    .option('max-layer-ratio', { type: 'string', describe: 'most a layer past 1 GiB may expand per compressed byte; 0: no limit (default 100, env ROCKER_MAX_LAYER_RATIO)', global: true })
    .demandCommand(1, 'a command is required')
    .strict()
    .help()
    .version(versionText())
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg} (see rocker-image --help)`);
    }) as unknown as Argv<GlobalArgs>;
  for (const cmd of COMMANDS) {
    cli = cli.command(cmd.command, cmd.describe, (y: Argv<GlobalArgs>) => (cmd.builder ? cmd.builder(y) : y), async (args: Record<string, unknown>) => {
      status = (await cmd.run(new Context(args as unknown as GlobalArgs), args)) ?? 0;
    });
  }
  try {
    await cli.parseAsync();
  } catch (e) {
    return report(e);
  }
  return status;
}

let finished = false;
// A command whose promise never settles would otherwise end with status 0.
process.on('exit', () => {
  if (finished) return;
  process.stderr.write('rocker-image: internal error: the command stopped before completing\n');
  process.exitCode = 1;
});

main(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (e) => {
    finished = true;
    process.exitCode = report(e);
  },
);
