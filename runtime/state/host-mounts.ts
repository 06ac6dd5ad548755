// A container without a mount namespace of its own gets its mounts made in the
// runtime's (under its rootfs, as runc and crun do), where they outlive it:
// teardown detaches them. Only mount points at or below a configured
// destination are touched, deepest first; a mount the user made in the rootfs
// before create stays. Paths come from the kernel's mount table (no symlinks),
// read once every process of the container is gone.
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import type { ContainerState } from './state-file.js';

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function detachHostMounts(st: ContainerState, warn: (msg: string) => void): void {
  if (st.config.linux?.namespaces?.some((ns) => ns.type === 'mount')) return;
  let rootfs: string;
  try {
    rootfs = realpathSync(st.rootfs);
  } catch {
    return; // the rootfs is gone, and its mounts with it
  }
  const dests = (st.config.mounts ?? []).map((m) => posix.join(rootfs, posix.normalize(`/${m.destination}`))).filter((d) => d !== rootfs);
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((mp) => dests.some((d) => mp === d || mp.startsWith(`${d}/`)));
  for (const mp of [...new Set(points)].sort((a, b) => b.length - a.length)) {
    try {
      execFileSync('umount', ['--lazy', mp], { stdio: 'ignore' });
    } catch (e) {
      warn(`detach ${mp}: ${(e as Error).message}`);
    }
  }
}
