// The security defaults an image container gets from the engines that run
// images (docker, containerd's CRI, podman), and the flags that change them:
// --cap-add/--cap-drop, --privileged, --security-opt. `--defaults runc` keeps
// the runtime's minimal `runc spec` defaults instead. docs/bundles.md lists
// each default and where it comes from.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../../runtime/errors.js';
import { defaultSeccomp, type LinuxSeccomp } from '../../runtime/spec/default-seccomp.js';
import { CAPABILITIES } from '../../runtime/spec/support.js';
import type { OciConfig } from '../../runtime/spec/types.js';

export type DefaultsKind = 'engine' | 'runc';

/** moby's and containerd CRI's default set (podman's built-in default too). */
export const ENGINE_CAPS = [
  'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

/** moby's masked paths plus podman's additions (/sys/fs/selinux, /sys/dev/block). */
export const ENGINE_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
  '/sys/fs/selinux', '/sys/dev/block',
];

export const ENGINE_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * moby's sysctls for a container with its own network namespace: any user may
 * bind ports below 1024 and send ICMP echo (ping) without CAP_NET_RAW.
 */
export const ENGINE_NETWORK_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_unprivileged_port_start': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

export interface SecurityOptions {
  defaults?: DefaultsKind;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** seccomp=unconfined, seccomp=FILE, no-new-privileges[=true|false]. */
  securityOpt?: string[];
}

/** "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "ALL" stays. */
function capName(flag: string, value: string): string {
  const upper = value.trim().toUpperCase();
  if (upper === 'ALL') return upper;
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!CAPABILITIES.includes(name)) throw new UsageError(`invalid ${flag} "${value}": unknown capability (expected e.g. NET_ADMIN or ALL)`);
  return name;
}

const capList = (flag: string, values: string[] = []) => values.flatMap((v) => v.split(',')).filter(Boolean).map((v) => capName(flag, v));

/**
 * The capability set, as docker computes it: --cap-drop ALL keeps only the
 * adds; --cap-add ALL is every capability but the drops; otherwise the base
 * minus the drops plus the adds.
 */
export function capabilitySet(base: readonly string[], o: SecurityOptions): string[] {
  const add = capList('--cap-add', o.capAdd);
  const drop = capList('--cap-drop', o.capDrop);
  let caps: Set<string>;
  if (drop.includes('ALL')) caps = new Set(add.includes('ALL') ? CAPABILITIES : add);
  else if (add.includes('ALL') || o.privileged) caps = new Set(CAPABILITIES.filter((c) => !drop.includes(c)));
  else caps = new Set([...base.filter((c) => !drop.includes(c)), ...add]);
  return CAPABILITIES.filter((c) => caps.has(c));
}

interface Parsed {
  seccomp?: 'unconfined' | string;
  noNewPrivileges?: boolean;
}

function parseSecurityOpts(opts: string[]): Parsed {
  const out: Parsed = {};
  for (const opt of opts) {
    // docker accepts both KEY=VALUE and the older KEY:VALUE.
    const m = /^([a-z-]+)(?:[=:](.*))?$/.exec(opt);
    const [key, value] = m ? [m[1], m[2]] : [opt, undefined];
    if (key === 'seccomp' && value) out.seccomp = value;
    else if (key === 'no-new-privileges' && (value === undefined || value === 'true' || value === 'false')) out.noNewPrivileges = value !== 'false';
    else throw new UsageError(`invalid --security-opt "${opt}": expected seccomp=unconfined, seccomp=FILE or no-new-privileges[=true|false]`);
  }
  return out;
}

/** docker's architecture names for a Node process.arch (profiles' includes/excludes.arches). */
const DOCKER_ARCH: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

interface ProfileRule {
  names?: string[];
  includes?: { caps?: string[]; arches?: string[] };
  excludes?: { caps?: string[]; arches?: string[] };
  [k: string]: unknown;
}
interface ProfileFile {
  defaultAction?: string;
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  architectures?: string[];
  syscalls?: ProfileRule[];
  [k: string]: unknown;
}

/**
 * A profile file: an OCI linux.seccomp object, or docker's format (archMap,
 * rules with includes/excludes), which is resolved here for this host's
 * architecture and the container's capabilities, as docker does.
 */
export async function loadSeccompFile(path: string, caps: readonly string[], arch: string = process.arch): Promise<LinuxSeccomp> {
  const file = resolve(path);
  let profile: ProfileFile;
  try {
    profile = JSON.parse(await readFile(file, 'utf8')) as ProfileFile;
  } catch (e) {
    throw new UsageError(`--security-opt seccomp=${path}: ${(e as Error).message}`);
  }
  if (typeof profile?.defaultAction !== 'string') throw new UsageError(`--security-opt seccomp=${path}: ${file} has no "defaultAction" (expected a seccomp profile)`);
  const { archMap, syscalls, ...rest } = profile;
  const dockerArch = DOCKER_ARCH[arch];
  const native = defaultSeccomp([], arch).architectures?.[0];
  const mapped = archMap?.find((a) => a.architecture === native);
  const has = (list: string[] | undefined, x: string) => (list ?? []).includes(x);
  const applies = (r: ProfileRule) =>
    (r.includes?.caps ?? []).every((c) => caps.includes(c)) &&
    (!r.includes?.arches?.length || has(r.includes.arches, dockerArch)) &&
    !(r.excludes?.caps ?? []).some((c) => caps.includes(c)) &&
    !has(r.excludes?.arches, dockerArch);
  return {
    ...rest,
    ...(archMap ? { architectures: mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : [] } : {}),
    // docker's files write absent fields as null, which the runtime spec does not allow.
    syscalls: (syscalls ?? []).filter(applies).map(({ includes: _i, excludes: _e, comment: _c, ...r }) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null))),
  } as unknown as LinuxSeccomp;
}

const hasOwnNetwork = (spec: OciConfig) => (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'network' && !ns.path);

/** Applies the defaults and the security flags; runs after networking (the sysctls need to know the namespace). */
export async function applySecurity(spec: OciConfig, o: SecurityOptions): Promise<void> {
  const engine = (o.defaults ?? 'engine') === 'engine';
  const opts = parseSecurityOpts(o.securityOpt ?? []);
  const proc = spec.process!;
  const linux = (spec.linux ??= {});
  const base = engine ? ENGINE_CAPS : (proc.capabilities?.bounding ?? []);
  const caps = capabilitySet(base, o);
  // Engines give no inheritable or ambient capabilities: a non-root process keeps none across exec.
  proc.capabilities = engine || o.privileged
    ? { bounding: caps, effective: caps, permitted: caps }
    : { bounding: caps, effective: caps, permitted: caps, ambient: caps };
  if (engine) {
    // Engines leave no_new_privs off: setuid programs (su, ping on old images) keep working.
    proc.noNewPrivileges = false;
    linux.maskedPaths = [...ENGINE_MASKED_PATHS];
    linux.readonlyPaths = [...ENGINE_READONLY_PATHS];
    if (hasOwnNetwork(spec)) linux.sysctl = { ...ENGINE_NETWORK_SYSCTLS, ...((linux.sysctl as Record<string, string>) ?? {}) };
  }
  if (opts.noNewPrivileges !== undefined) proc.noNewPrivileges = opts.noNewPrivileges;
  if (o.privileged) {
    delete linux.maskedPaths;
    delete linux.readonlyPaths;
    linux.resources = { ...(linux.resources ?? {}), devices: [{ allow: true, access: 'rwm' }] };
  }
  delete linux.seccomp;
  if (opts.seccomp && opts.seccomp !== 'unconfined') linux.seccomp = await loadSeccompFile(opts.seccomp, caps);
  else if (engine && !o.privileged && opts.seccomp !== 'unconfined') linux.seccomp = defaultSeccomp(caps);
}
