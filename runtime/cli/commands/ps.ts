// `ps <id> [ps options]`: ps(1) output limited to the container's processes,
// or with --format json the container's host pids as a JSON array.
import { spawnSync } from 'node:child_process';
import { containerCgroup } from '../../cgroups/container.js';
import { RockerError, UsageError } from '../../errors.js';
import { writeOut } from '../output.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'ps',
  usage: '<container-id> [ps options]',
  description: 'ps displays the processes running inside a container',
  flags: [{ name: 'format', alias: ['f'], type: 'string', description: 'select one of: table or json', default: 'table' }],
  flagsEndAfterPositionals: 1,
  minArgs: 1,
};

/** Keeps ps(1)'s header and the rows whose PID column is one of `pids`. */
export function filterPsOutput(output: string, pids: Set<number>): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column < 0) throw new RockerError("couldn't find PID field in ps output");
  const rows = lines.slice(1).filter((l) => {
    const fields = l.trim().split(/\s+/);
    return fields.length > column && pids.has(Number(fields[column]));
  });
  return [header, ...rows].join('\n') + '\n';
}

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const [id, ...psArgs] = parsed.args;
  const format = parsed.flags.format;
  if (format !== 'table' && format !== 'json') throw new UsageError(`invalid format option: ${String(format)}`);
  const c = await containerCgroup(ctx.global.root, id);
  const pids = await c.cg.pids();
  if (format === 'json') {
    writeOut(JSON.stringify(pids) + '\n');
    return 0;
  }
  const ps = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (ps.error) throw new RockerError(`ps: ${ps.error.message}`);
  if (ps.status !== 0) throw new RockerError(`ps exited with status ${ps.status}: ${ps.stderr.trim()}`);
  writeOut(filterPsOutput(ps.stdout, new Set(pids)));
  return 0;
}
