// Device access rules for the v1 devices controller: in order, each written to
// devices.allow or devices.deny. The runtime's own default devices (the ones
// every container gets in /dev) follow the config's rules, as runc appends
// them, so a config that only denies everything (as podman sends) still has a
// usable /dev.
import type { CgroupDir } from './apply-context.js';
import type { DeviceRule } from './types.js';

/** null, zero, full, random, urandom, tty, ptmx, /dev/pts/*, net/tun, and mknod of anything. */
export const DEFAULT_DEVICE_RULES: DeviceRule[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/**
 * A rule's access string split into the r, w and m it grants or denies (in the
 * kernel's order, each once) and every other letter. The spec allows only r, w
 * and m; runc drops other letters (its rules go through set operations on
 * those three), and configs written for runc use "rwa", so rocker drops them too
 * (with a warning) rather than refuse such a config. Absent or empty means all three.
 */
export function splitAccess(access: string | undefined): { known: string; other: string } {
  const s = access || 'rwm';
  return { known: [...'rwm'].filter((c) => s.includes(c)).join(''), other: [...s].filter((c) => !'rwm'.includes(c)).join('') };
}

/** The devices.allow/deny line for a rule: "c 1:3 rwm", or "a" for every device. */
export function ruleLine(r: DeviceRule): string {
  const type = r.type ?? 'a';
  if (type === 'a') return 'a';
  const num = (n: number | undefined): string => (n === undefined || n < 0 ? '*' : String(n));
  return `${type} ${num(r.major)}:${num(r.minor)} ${splitAccess(r.access).known}`;
}

export function devicesV1(d: CgroupDir, rules: DeviceRule[]): void {
  for (const r of rules) {
    d.write(r.allow ? 'devices.allow' : 'devices.deny', ruleLine(r));
  }
}
