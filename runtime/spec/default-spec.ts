// The default config.json, as `runc spec` writes it (with rocker's hostname and
// spec version). The image tool's bundle code starts from it too.
import { SPEC_VERSION, type OciConfig, type OciMount } from './types.js';

export interface DefaultSpecOptions {
  /** A spec for an unprivileged user: a user namespace mapping the caller's ids, no network namespace, /sys bound. */
  rootless?: boolean;
  /** Host uid/gid mapped to root in the rootless spec (default: the caller's). */
  hostUid?: number;
  hostGid?: number;
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
];

export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function mounts(rootless: boolean): OciMount[] {
  const devptsOptions = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  if (!rootless) devptsOptions.push('gid=5');
  // Without CAP_SYS_ADMIN in the initial user namespace sysfs cannot be mounted: bind the host's.
  const sys: OciMount = rootless
    ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devptsOptions },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sys,
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

export function defaultSpec(opts: DefaultSpecOptions = {}): OciConfig {
  const rootless = opts.rootless ?? false;
  const namespaces = rootless
    ? ['pid', 'ipc', 'uts', 'mount', 'user']
    : ['pid', 'network', 'ipc', 'uts', 'mount'];
  const linux: OciConfig['linux'] = rootless
    ? {
        uidMappings: [{ containerID: 0, hostID: opts.hostUid ?? process.geteuid?.() ?? 0, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: opts.hostGid ?? process.getegid?.() ?? 0, size: 1 }],
        namespaces: namespaces.map((type) => ({ type })),
      }
    : { resources: { devices: [{ allow: false, access: 'rwm' }] }, namespaces: namespaces.map((type) => ({ type })) };
  linux.maskedPaths = [...DEFAULT_MASKED_PATHS];
  linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'rocker',
    mounts: mounts(rootless),
    linux,
  };
}
