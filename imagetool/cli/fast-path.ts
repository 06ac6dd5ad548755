// The commands scripts and benchmarks run most (pull, bundle, unbundle), when given
// only their positional arguments and global options, start without yargs: loading
// it costs ~85 ms, more than a bundle from an unpacked image takes. Anything else
// (a command option, --help, --version, `--`, a wrong argument count) returns
// undefined and yargs parses the command line as usual, errors and help included.
// The arguments handed to the command are the ones yargs would produce: the global
// defaults below and each option's default from the command's own builder.
import type { GlobalArgs, ImageCommand } from './context.js';

/** Global options that take a value; `quiet` is the one boolean. */
const VALUE_OPTIONS = new Set(['root', 'insecure-registry', 'platform', 'max-layer-size', 'max-layer-ratio']);

/** Positional names of the commands taken here, in order. */
const FAST: Record<string, string[]> = { pull: ['image'], bundle: ['image', 'dir'], unbundle: ['dir'] };

/** The option defaults a command's builder declares, read by handing it a recorder. */
function builderDefaults(cmd: ImageCommand): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  const recorder: unknown = new Proxy(
    {},
    {
      get: (_t, method) => (name: unknown, opts?: { default?: unknown }) => {
        if (method === 'option' && typeof name === 'string' && opts && 'default' in opts) defaults[name] = opts.default;
        return recorder;
      },
    },
  );
  cmd.builder?.(recorder as Parameters<NonNullable<ImageCommand['builder']>>[0]);
  return defaults;
}

export interface FastCall {
  verb: string;
  global: GlobalArgs;
  args: (cmd: ImageCommand) => Record<string, unknown>;
}

export function fastPath(argv: string[]): FastCall | undefined {
  const global: GlobalArgs = { root: '/var/lib/rocker', quiet: false, 'insecure-registry': [] };
  const positionals: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (arg === '-q' || arg === '--quiet') {
      global.quiet = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : '';
    if (!VALUE_OPTIONS.has(name)) return undefined;
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined;
    if (name === 'insecure-registry') global['insecure-registry'].push(value);
    else if (seen.has(name)) return undefined; // yargs makes a repeated option an array
    else if (name === 'root') global.root = value;
    else if (name === 'platform') global.platform = value;
    else global[name as 'max-layer-size' | 'max-layer-ratio'] = value;
    seen.add(name);
  }
  const [verb, ...rest] = positionals;
  const names = FAST[verb];
  if (!names || rest.length !== names.length) return undefined;
  return {
    verb,
    global,
    args: (cmd) => ({
      _: [verb],
      ...global,
      ...builderDefaults(cmd),
      ...Object.fromEntries(names.map((n, i) => [n, rest[i]])),
    }),
  };
}
