// Signal names and numbers as `kill` accepts them: "KILL", "SIGKILL", "9"; and 0,
// which signals nothing and only probes that the process exists (as with kill(2)).
import { constants } from 'node:os';
import { UsageError } from '../errors.js';

export function parseSignal(raw: string): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n < 65) return n;
  } else {
    const name = raw.toUpperCase();
    const num = (constants.signals as Record<string, number>)[name.startsWith('SIG') ? name : `SIG${name}`];
    if (num !== undefined) return num;
  }
  throw new UsageError(`unknown signal "${raw}"`);
}
