// What rocker supports, as tables the code checks configs against and
// `features` reports: one source for both.
import { SpecError } from '../errors.js';
import { splitAccess } from '../cgroups/devices.js';
import type { OciConfig } from './types.js';

/** Linux capabilities by number (linux/capability.h, 0..40). */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Namespace types nsexec creates or joins by path. */
export const NAMESPACES = ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'];

/** Mount options nsexec turns into mount flags, propagation or recursive attributes (others pass through as data). */
export const MOUNT_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime', 'loud', 'mand',
  'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime',
  'nosuid', 'nosymfollow', 'private', 'ratime', 'rbind', 'rdev', 'rdiratime', 'relatime', 'remount', 'rexec',
  'rnoatime', 'rnodev', 'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro',
  'rprivate', 'rrelatime', 'rro', 'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow', 'runbindable',
  'rw', 'shared', 'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable',
];

/**
 * rocker applies no AppArmor profile and no SELinux label: a config or exec that
 * asks for one is refused rather than run unconfined (runc, on a host without
 * AppArmor/SELinux, fails create the same way). The first one asked for, as the
 * JSON path relative to the config's root and runc's message, or undefined.
 */
export function unsupportedConfinement(
  proc: Record<string, unknown> | undefined,
  mountLabel?: unknown,
): { path: string; message: string } | undefined {
  if (proc?.apparmorProfile) return { path: '$.process.apparmorProfile', message: `apparmor profile ${proc.apparmorProfile} is set but AppArmor is not supported` };
  if (proc?.selinuxLabel) return { path: '$.process.selinuxLabel', message: 'selinux label is specified in config, but selinux is disabled or not supported' };
  if (mountLabel) return { path: '$.linux.mountLabel', message: 'mount label is specified in config, but selinux is disabled or not supported' };
  return undefined;
}

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/** Rejects what the schema allows but rocker cannot do, naming the JSON path. */
export function checkSupported(config: OciConfig, file: string): void {
  const caps = config.process?.capabilities ?? {};
  for (const set of CAP_SETS) {
    (caps[set] ?? []).forEach((cap, i) => {
      if (!CAPABILITIES.includes(cap)) throw new SpecError(file, `$.process.capabilities.${set}[${i}]`, `unknown capability ${JSON.stringify(cap)}`);
    });
  }
  ((config.linux?.resources?.devices ?? []) as { access?: string }[]).forEach((d, i) => {
    // Other letters are dropped when the rule is applied, but a rule left with none
    // of r, w, m would do nothing at all: surely not what was asked for.
    if (d.access && !splitAccess(d.access).known) {
      throw new SpecError(file, `$.linux.resources.devices[${i}].access`, `invalid device access ${JSON.stringify(d.access)}: expected a combination of r, w and m`);
    }
  });
  const confinement = unsupportedConfinement(config.process, config.linux?.mountLabel);
  if (confinement) throw new SpecError(file, confinement.path, confinement.message);
  (config.linux?.namespaces ?? []).forEach((ns, i) => {
    if (!NAMESPACES.includes(ns.type)) throw new SpecError(file, `$.linux.namespaces[${i}].type`, `unknown namespace ${JSON.stringify(ns.type)}`);
  });
}
