// Pins a container's network namespace to a file (a bind mount of
// /proc/<pid>/ns/net) for as long as it is attached. The plugins' DEL then
// always finds the namespace, even after the container's processes are gone,
// so the bridge plugin can remove the veth and its NAT rules from it.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { NetworkError } from './errors.js';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new NetworkError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  }
}

/** True when `file` has a namespace mounted on it (its device differs from its directory's). */
export function isPinned(file: string): boolean {
  try {
    return statSync(file).dev !== statSync(dirname(file)).dev;
  } catch {
    return false;
  }
}

export function pinNetns(file: string, pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) throw new NetworkError(`invalid container pid ${pid} in the state`);
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, 'a', 0o444));
  run('mount', ['--bind', `/proc/${pid}/ns/net`, file]);
}

export function unpinNetns(file: string): void {
  if (isPinned(file)) run('umount', [file]);
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
