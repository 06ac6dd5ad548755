// Reading and writing cgroupfs files. Every failure names the file and, for a
// write, the value, in the style runc reports them:
//   write /sys/fs/cgroup/memory/x/memory.limit_in_bytes: "1": device or resource busy
import { closeSync, constants, existsSync, openSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { SystemError } from '../errors.js';

// Node's messages carry libuv's wording; runc-style messages use strerror's.
const STRERROR: Record<string, string> = {
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  ERANGE: 'numerical result out of range',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  ENODEV: 'no such device',
  ESRCH: 'no such process',
  ENOTEMPTY: 'directory not empty',
  EEXIST: 'file exists',
  E2BIG: 'argument list too long',
};

export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (code && STRERROR[code]) || (e instanceof Error ? e.message : String(e));
}

/** A SystemError whose message is `<op> <path>: [<detail>: ]<strerror>` and which keeps the errno code. */
export function cgroupError(op: string, path: string, e: unknown, detail?: string): SystemError {
  const cause = Object.assign(new Error((detail !== undefined ? `${detail}: ` : '') + strerror(e)), {
    code: (e as NodeJS.ErrnoException)?.code,
  });
  return new SystemError(op, path, cause);
}

/** Writes `value` to a cgroup file (opened write-only and truncated, never created). */
export function writeCgroupFile(file: string, value: string | number): void {
  const text = String(value);
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_TRUNC);
  } catch (e) {
    throw cgroupError('open', file, e);
  }
  try {
    writeSync(fd, text);
  } catch (e) {
    throw cgroupError('write', file, e, JSON.stringify(text));
  } finally {
    closeSync(fd);
  }
}

/** The file's content, or undefined when it does not exist (a controller file the kernel lacks). */
export function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cgroupError('read', file, e);
  }
}

export function fileExists(file: string): boolean {
  return existsSync(file);
}

/** Kernel counters are u64: values past 2^53 stay exact as bigint (limits are often 2^63 - 4096). */
export type Counter = number | bigint;

export function toCounter(text: string): Counter {
  const n = Number(text);
  return Number.isSafeInteger(n) || !/^\d+$/.test(text) ? n : BigInt(text);
}

/** A number from a single-value file; "max" (v2) is returned as `max`. */
export function readNumber(file: string, max: Counter = 0): Counter {
  const text = readOptional(file)?.trim();
  if (text === undefined || text === '') return 0;
  if (text === 'max') return max;
  return toCounter(text);
}

/** "key value" lines (memory.stat, cpu.stat, ...) as a record of counters. */
export function readKeyValues(file: string): Record<string, Counter> {
  const out: Record<string, Counter> = {};
  for (const line of (readOptional(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = toCounter(v);
  }
  return out;
}

/** JSON text in which bigint counters appear as plain JSON numbers, as Go prints uint64. */
export function countersToJson(value: unknown): string {
  const mark = '\u0000bigint:';
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${mark}${v}` : v)).replace(/"\\u0000bigint:(\d+)"/g, '$1');
}

/** Pids listed in a cgroup.procs file. */
export function readPids(file: string): number[] {
  return (readOptional(file) ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

/** rmdir (a missing directory counts as removed): the error of a refused one (EBUSY, ENOTEMPTY); any other is thrown. */
export function tryRmdir(dir: string): NodeJS.ErrnoException | undefined {
  try {
    rmdirSync(dir);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EBUSY' || err.code === 'ENOTEMPTY') return err;
    if (err.code !== 'ENOENT') throw cgroupError('rmdir', dir, e);
  }
  return undefined;
}
