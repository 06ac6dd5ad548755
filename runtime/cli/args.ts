// A small declarative argv parser for runc-style command lines. It is used
// instead of yargs on this hot path: a runtime command must start fast.
import { UsageError } from '../errors.js';

export type FlagType = 'boolean' | 'string' | 'number' | 'list';

export interface FlagSpec {
  name: string;
  alias?: string[];
  type: FlagType;
  description: string;
  default?: string | number | boolean;
}

export interface CommandSpec {
  name: string;
  usage: string; // e.g. "<container-id> [command...]"
  description: string;
  flags: FlagSpec[];
  /** Parsing of flags stops after this many positional arguments (exec's command follows its id). */
  flagsEndAfterPositionals?: number;
  minArgs?: number;
  maxArgs?: number;
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean | string[] | undefined>;
  args: string[];
  help: boolean;
}

function findFlag(spec: FlagSpec[], key: string): FlagSpec | undefined {
  return spec.find((f) => f.name === key || f.alias?.includes(key));
}

/** Parses `argv` against `flags`; stops at the first positional when `stopAtFirstPositional`. */
export function parseFlags(
  argv: string[],
  flags: FlagSpec[],
  where: string,
  flagsEndAfterPositionals = Infinity,
): ParsedArgs {
  const out: ParsedArgs = { flags: {}, args: [], help: false };
  for (const f of flags) if (f.default !== undefined) out.flags[f.name] = f.default;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (out.args.length >= flagsEndAfterPositionals) break;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.args.push(a);
      continue;
    }
    if (a === '--help' || a === '-h') {
      out.help = true;
      continue;
    }
    const eq = a.indexOf('=');
    const key = (eq >= 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
    const spec = findFlag(flags, key);
    if (!spec) throw new UsageError(`${where}: flag provided but not defined: -${key}`);
    let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (spec.type === 'boolean') {
      out.flags[spec.name] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${where}: flag needs an argument: -${key}`);
      value = argv[++i];
    }
    if (spec.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`${where}: invalid value "${value}" for flag -${key}: not a number`);
      out.flags[spec.name] = n;
    } else if (spec.type === 'list') {
      const prev = out.flags[spec.name];
      out.flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      out.flags[spec.name] = value;
    }
  }
  out.args.push(...argv.slice(i));
  return out;
}

export function usageText(prog: string, cmd: CommandSpec): string {
  const lines = [`NAME:\n   ${prog} ${cmd.name} - ${cmd.description}`, `USAGE:\n   ${prog} ${cmd.name} [command options] ${cmd.usage}`];
  if (cmd.flags.length) {
    lines.push(
      'OPTIONS:\n' +
        cmd.flags
          .map((f) => {
            const names = [f.name, ...(f.alias ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ');
            const arg = f.type === 'boolean' ? '' : ' value';
            return `   ${(names + arg).padEnd(30)} ${f.description}`;
          })
          .join('\n'),
    );
  }
  return lines.join('\n\n') + '\n';
}

export function checkArgCount(cmd: CommandSpec, args: string[]): void {
  const min = cmd.minArgs ?? 0;
  const max = cmd.maxArgs ?? Infinity;
  if (args.length < min || args.length > max) {
    const want = min === max ? `exactly ${min}` : args.length < min ? `at least ${min}` : `at most ${max}`;
    throw new UsageError(`${cmd.name}: "${cmd.name}" requires ${want} argument(s)`);
  }
}
