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

/** The devices.allow/deny line for a rule: "c 1:3 rwm", or "a" for every device. */
export function ruleLine(r: DeviceRule): string {
  const type = r.type ?? 'a';
  if (type === 'a') return 'a';
  const num = (n: number | undefined): string => (n === undefined || n < 0 ? '*' : String(n));
  return `${type} ${num(r.major)}:${num(r.minor)} ${r.access || 'rwm'}`;
}

export function devicesV1(d: CgroupDir, rules: DeviceRule[]): void {
  for (const r of rules) {
    d.write(r.allow ? 'devices.allow' : 'devices.deny', ruleLine(r));
  }
}
