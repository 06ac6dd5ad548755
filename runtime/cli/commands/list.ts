// `list`: every container under --root, as runc prints them (a table,
// `--format json`, or ids only with -q).
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { containerDir } from '../../state/container-dir.js';
import { readState } from '../../state/state-file.js';
import { deriveStatus } from '../../state/status.js';
import { ociState, type OciState } from '../../state/oci-state.js';
import { SPEC_VERSION } from '../../spec/types.js';
import { StateFileError, UsageError } from '../../errors.js';
import { writeErr, writeOut } from '../output.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'list',
  usage: '',
  description: 'lists containers started by rocker with the given root',
  flags: [
    { name: 'format', alias: ['f'], type: 'string', description: 'select one of: table or json', default: 'table' },
    { name: 'quiet', alias: ['q'], type: 'boolean', description: 'display only container IDs' },
  ],
  maxArgs: 0,
};

function userNames(): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2) names.set(Number(f[2]), f[0]);
    }
  } catch {
    // No passwd: owners are shown as numbers.
  }
  return names;
}

/** Go's zero time, what runc prints for a creation time it does not know. */
const UNKNOWN_TIME = '0001-01-01T00:00:00Z';

/**
 * A container whose state.json is broken is still listed (status "unknown", with
 * what survived of bundle and creation time) so that it can be found and deleted;
 * stderr says what is wrong, as runc's "load container" line does.
 */
function brokenRow(id: string, e: StateFileError): OciState {
  writeErr(`load container ${id}: ${e.message}\n`);
  const { bundle, rootfs, created } = e.salvage;
  const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
  return {
    ociVersion: SPEC_VERSION,
    id,
    pid: 0,
    status: 'unknown',
    bundle: text(bundle, ''),
    rootfs: text(rootfs, ''),
    created: text(created, UNKNOWN_TIME),
    owner: '',
  };
}

async function collect(root: string): Promise<OciState[]> {
  let ids: string[];
  try {
    ids = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
  const users = userNames();
  const out: OciState[] = [];
  for (const id of ids) {
    try {
      const cd = containerDir(root, id);
      let row: OciState;
      try {
        const st = readState(cd);
        row = ociState(st, deriveStatus(cd, st));
      } catch (e) {
        if (!(e instanceof StateFileError)) throw e;
        row = brokenRow(id, e);
      }
      const uid = statSync(cd.stateFile).uid;
      out.push({ ...row, owner: users.get(uid) ?? `#${uid}` });
    } catch {
      // Not a container dir (or one being deleted right now).
    }
  }
  return out;
}

/** Columns padded like Go's tabwriter(minwidth 12, padding 3) that runc uses. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length + 3), 12));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('') + '\n').join('');
}

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const format = parsed.flags.format;
  if (format !== 'table' && format !== 'json') throw new UsageError(`invalid format option: ${String(format)}`);
  const states = await collect(ctx.global.root);
  if (parsed.flags.quiet) {
    writeOut(states.map((s) => `${s.id}\n`).join(''));
  } else if (format === 'json') {
    writeOut(`${states.length ? JSON.stringify(states) : 'null'}\n`);
  } else {
    const header = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'];
    writeOut(table([header, ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])]));
  }
  return 0;
}
