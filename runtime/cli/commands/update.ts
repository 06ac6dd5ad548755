// `update <id>`: change the resource limits of a live container, from runc's
// flags or from a LinuxResources JSON document (-r FILE, or - for stdin, as
// containerd sends it). The new values are also kept in state.json.
import { readFileSync } from 'node:fs';
import type { Resources } from '../../cgroups/types.js';
import type { ResourceSource } from '../../cgroups/fs-manager.js';
import { parseResources, updateContainer } from '../../launch/update.js';
import { SystemError, UsageError } from '../../errors.js';
import type { CommandSpec, FlagSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

const str = (name: string, description: string, alias?: string[]): FlagSpec => ({ name, type: 'string', description, alias });

export const spec: CommandSpec = {
  name: 'update',
  usage: '<container-id>',
  description: 'update container resource constraints',
  flags: [
    str('resources', 'path to the file containing the resources to update or \'-\' to read from the standard input', ['r']),
    str('blkio-weight', 'Specifies per cgroup weight, range is from 10 to 1000'),
    str('cpu-period', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default'),
    str('cpu-quota', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period'),
    str('cpu-share', 'CPU shares (relative weight vs. other containers)'),
    str('cpu-rt-period', 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default'),
    str('cpu-rt-runtime', 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period'),
    str('cpuset-cpus', 'CPU(s) to use'),
    str('cpuset-mems', 'Memory node(s) to use'),
    str('kernel-memory', 'Kernel memory limit (accepted and ignored, as kernel memory limits are deprecated)'),
    str('kernel-memory-tcp', 'Kernel memory limit (in bytes) for tcp buffer'),
    str('memory', 'Memory limit (in bytes)'),
    str('memory-reservation', 'Memory reservation or soft_limit (in bytes)'),
    str('memory-swap', 'Total memory usage (memory + swap); set \'-1\' to enable unlimited swap'),
    str('pids-limit', 'Maximum number of pids allowed in the container'),
    str('l3-cache-schema', 'The string of Intel RDT/CAT L3 cache schema (not supported)'),
    str('mem-bw-schema', 'The string of Intel RDT/MBA memory bandwidth schema (not supported)'),
  ],
  minArgs: 1,
  maxArgs: 1,
};

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** "512m", "1g", "1048576", "-1" -> bytes (binary units, as runc and docker read them). */
export function parseBytes(flag: string, value: string): number {
  if (value === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$/i.exec(value.trim());
  if (!m) throw new UsageError(`invalid value for --${flag}: ${JSON.stringify(value)}`);
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

function parseInteger(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`invalid value for --${flag}: ${JSON.stringify(value)}`);
  return Number(value);
}

/** The resources the flags ask for; only flags given appear. */
export function resourcesFromFlags(flags: ParsedArgs['flags']): Resources {
  const get = (name: string): string | undefined => (flags[name] === undefined ? undefined : String(flags[name]));
  const bytes = (name: string): number | undefined => (get(name) === undefined ? undefined : parseBytes(name, get(name)!));
  const int = (name: string): number | undefined => (get(name) === undefined ? undefined : parseInteger(name, get(name)!));
  for (const rdt of ['l3-cache-schema', 'mem-bw-schema']) {
    if (get(rdt) !== undefined) throw new UsageError(`--${rdt}: Intel RDT is not supported`);
  }
  const r: Resources = {
    memory: {
      limit: bytes('memory'),
      reservation: bytes('memory-reservation'),
      swap: bytes('memory-swap'),
      kernel: bytes('kernel-memory'),
      kernelTCP: bytes('kernel-memory-tcp'),
    },
    cpu: {
      shares: int('cpu-share'),
      quota: int('cpu-quota'),
      period: int('cpu-period'),
      realtimePeriod: int('cpu-rt-period'),
      realtimeRuntime: int('cpu-rt-runtime'),
      cpus: get('cpuset-cpus'),
      mems: get('cpuset-mems'),
    },
    pids: { limit: int('pids-limit') },
    blockIO: { weight: int('blkio-weight') },
  };
  // Drop what was not asked for, so nothing else is rewritten.
  for (const key of Object.keys(r) as (keyof Resources)[]) {
    const section = r[key] as Record<string, unknown>;
    for (const k of Object.keys(section)) if (section[k] === undefined) delete section[k];
    if (Object.keys(section).length === 0) delete r[key];
  }
  return r;
}

function readResources(file: string): Resources {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new SystemError('open', file, e as Error);
  }
  return parseResources(text, file === '-' ? 'stdin' : file);
}

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0];
  const file = parsed.flags.resources as string | undefined;
  const resources = file !== undefined ? readResources(file) : resourcesFromFlags(parsed.flags);
  const source: ResourceSource = file !== undefined ? { file: file === '-' ? 'stdin' : file, prefix: '' } : { file: 'update', prefix: '' };
  await updateContainer(ctx.global.root, id, resources, source, (m) => ctx.logger.warn(m));
  return 0;
}
