// rocker-runtime entry point: global flags, then the one command module that is
// asked for is loaded (nothing else is imported on this hot path).
import { readFileSync } from 'node:fs';
import { Logger } from '../log/logger.js';
import { RockerError, UsageError } from '../errors.js';
import { parseFlags, usageText, checkArgCount, type FlagSpec } from './args.js';
import { writeErr, writeOut } from './output.js';
import type { CommandModule, GlobalOptions } from './context.js';

const PROG = 'rocker-runtime';

/** Every verb; each is cli/commands/<verb>.js. */
const COMMANDS = [
  'create', 'start', 'run', 'state', 'list', 'kill', 'delete', 'spec', 'features',
  'exec', 'ps', 'pause', 'resume', 'update', 'events',
] as const;

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', type: 'string', description: 'root directory for storage of container state', default: '/run/rocker' },
  { name: 'log', type: 'string', description: 'set the log file to write runtime logs to (default is stderr)' },
  { name: 'log-format', type: 'string', description: 'set the log format ("text" or "json")', default: 'text' },
  { name: 'debug', type: 'boolean', description: 'enable debug logging' },
  { name: 'systemd-cgroup', type: 'boolean', description: 'cgroupsPath is in systemd slice:prefix:name form' },
  { name: 'rootless', type: 'string', description: 'accepted for compatibility; rocker runs as root' },
  { name: 'criu', type: 'string', description: 'accepted for compatibility; checkpointing is not supported' },
  { name: 'version', alias: ['v'], type: 'boolean', description: 'print the version' },
];

function versionText(): string {
  let info = { version: '0.0.0', commit: 'unknown', spec: '1.3.0' };
  try {
    info = JSON.parse(readFileSync(new URL('../../build-info.json', import.meta.url), 'utf8'));
  } catch {
    // A tree built without `make` has no build-info.json; the defaults stand.
  }
  return `${PROG} version ${info.version}\ncommit: ${info.commit}\nspec: ${info.spec}\n`;
}

function topUsage(): string {
  return (
    `NAME:\n   ${PROG} - an OCI runtime, runc-compatible\n\nUSAGE:\n   ${PROG} [global options] command [command options] [arguments...]\n\n` +
    `COMMANDS:\n   ${COMMANDS.join(', ')}\n\nGLOBAL OPTIONS:\n` +
    GLOBAL_FLAGS.map((f) => `   --${f.name.padEnd(20)} ${f.description}`).join('\n') +
    '\n'
  );
}

async function main(argv: string[]): Promise<number> {
  const g = parseFlags(argv, GLOBAL_FLAGS, PROG, 1);
  if (g.flags.version) {
    writeOut(versionText());
    return 0;
  }
  const [verb, ...rest] = g.args;
  if (g.help || !verb) {
    writeOut(topUsage());
    return verb || g.help ? 0 : 1;
  }
  const format = g.flags['log-format'];
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log-format: ${String(format)}`);
  // podman clears XDG_RUNTIME_DIR to "" for root; nothing here depends on it.
  const global: GlobalOptions = {
    root: String(g.flags.root),
    log: g.flags.log as string | undefined,
    logFormat: format,
    debug: Boolean(g.flags.debug),
    systemdCgroup: Boolean(g.flags['systemd-cgroup']),
  };
  const logger = new Logger({ file: global.log, format: global.logFormat });
  if (!(COMMANDS as readonly string[]).includes(verb)) {
    throw new UsageError(`No help topic for '${verb}'`);
  }
  const mod = (await import(`./commands/${verb}.js`)) as CommandModule;
  const parsed = parseFlags(rest, mod.spec.flags, verb, mod.spec.flagsEndAfterPositionals);
  if (parsed.help) {
    writeOut(usageText(PROG, mod.spec));
    return 0;
  }
  checkArgCount(mod.spec, parsed.args);
  try {
    return await mod.run({ global, logger }, parsed);
  } catch (e) {
    logFailure(logger, global, e);
    return e instanceof RockerError ? e.exitCode : 1;
  }
}

function logFailure(logger: Logger | undefined, global: GlobalOptions | undefined, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  if (global?.debug && e instanceof Error && !(e instanceof RockerError)) writeErr(`${e.stack}\n`);
  logger?.error(msg);
  // With --log the error goes to the file and, as with runc, to stderr as well.
  if (global?.log) writeErr(`${msg}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    logFailure(new Logger({ format: 'text' }), undefined, e);
    process.exitCode = e instanceof RockerError ? e.exitCode : 1;
  },
);
