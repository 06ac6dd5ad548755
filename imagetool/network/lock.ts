// A cross-process lock file: created with O_EXCL holding the owner's pid. A lock
// whose owner has died (a crashed hook) is taken over, so one crash never wedges
// every later network command.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetworkError } from './errors.js';

function ownerAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return true; // vanished or being written: just retry
  }
  if (!Number.isInteger(pid) || pid <= 0) return true; // a half-written file: its writer is alive
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTake(path: string): boolean {
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return false;
  }
}

/** Runs `fn` holding the lock file `path`; waits (with short back-off) up to `timeoutMs`. */
export async function withLock<T>(path: string, fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; !tryTake(path); delay = Math.min(delay * 2, 50)) {
    if (!ownerAlive(path)) {
      try {
        unlinkSync(path);
      } catch {
        // another waiter removed it first
      }
      continue;
    }
    if (Date.now() > deadline) throw new NetworkError(`timed out waiting for lock ${path}`);
    await sleep(delay);
  }
  try {
    return await fn();
  } finally {
    unlinkSync(path);
  }
}
