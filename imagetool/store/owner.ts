// Process identity for temp files and leases: pid plus kernel start time, so a
// recycled pid is never mistaken for the process that created the file.
import { readFileSync } from 'node:fs';

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may contain spaces, so count from its closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

let self: string | undefined;
/** "<pid>-<starttime>" of this process. */
export function ownerToken(): string {
  self ??= `${process.pid}-${startTime(process.pid) ?? '0'}`;
  return self;
}

/** Whether the process that made `token` (as from ownerToken) is still running. */
export function ownerAlive(token: string): boolean {
  const m = /^(\d+)-(\d+)/.exec(token);
  if (!m) return false;
  return startTime(Number(m[1])) === m[2];
}
