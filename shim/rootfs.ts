// The rootfs mounts containerd hands the shim (its snapshotter's overlay or bind
// mount) at <bundle>/rootfs, by mount(8): a mount is never made from Node itself.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RockerError } from '../runtime/errors.js';

const run = promisify(execFile);

export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export function rootfsOf(bundle: string): string {
  return join(bundle, 'rootfs');
}

export async function mountRootfs(bundle: string, mounts: Mount[]): Promise<void> {
  const target = rootfsOf(bundle);
  mkdirSync(target, { recursive: true });
  for (const m of mounts) {
    const args = ['-t', m.type, m.source, target];
    if (m.options.length) args.push('-o', m.options.join(','));
    try {
      await run('mount', args);
    } catch (e) {
      throw new RockerError(`mount ${m.type} ${m.source} on ${target}: ${((e as { stderr?: string }).stderr || (e as Error).message).trim()}`);
    }
  }
}

/** Whether something is mounted on `dir` (its mount point field in /proc/self/mountinfo, octal-escaped). */
function mounted(dir: string): boolean {
  const escaped = dir.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === escaped);
}

/** Unmounts everything on <bundle>/rootfs; nothing mounted is not an error. */
export async function unmountRootfs(bundle: string): Promise<void> {
  const target = rootfsOf(bundle);
  while (mounted(target)) await run('umount', [target]);
}
