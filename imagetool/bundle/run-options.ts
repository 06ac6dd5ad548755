// The origin project's `run` flags, applied to a bundle's config.json:
// -e, -v, -m, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit, -w, --hostname,
// --read-only, -t (-u is resolved with the image's user, in bundle.ts).
import { stat } from 'node:fs/promises';
import { isAbsolute, posix, resolve } from 'node:path';
import { UsageError } from '../../runtime/errors.js';
import type { OciConfig, OciMount } from '../../runtime/spec/types.js';

export interface RunOptions {
  env?: string[];
  volumes?: string[];
  memory?: string;
  cpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  user?: string;
  workdir?: string;
  hostname?: string;
  readOnly?: boolean;
  tty?: boolean;
  /** --ulimit NAME=SOFT[:HARD] */
  ulimits?: string[];
  shmSize?: string;
  /** --sysctl KEY=VALUE */
  sysctls?: string[];
  /** --tmpfs PATH[:OPTIONS] */
  tmpfs?: string[];
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "512m", "1g", "1048576" -> bytes (docker's binary units); `what` names the flag in errors. */
export function parseSize(value: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw new UsageError(`invalid ${what} "${value}": expected a number with an optional unit b, k, m, g or t`);
  const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
  if (bytes <= 0) throw new UsageError(`invalid ${what} "${value}": must be positive`);
  return bytes;
}

export function parseMemory(value: string): number {
  const bytes = parseSize(value, 'memory size');
  if (bytes < 6 * 1024 * 1024) throw new UsageError(`invalid memory size "${value}": the minimum is 6m`);
  return bytes;
}

/** --ulimit nofile=1024[:2048] -> an rlimit (soft = hard when one value is given). */
export function parseUlimit(flag: string): { type: string; soft: number; hard: number } {
  const m = /^([a-z]+)=([0-9]+)(?::([0-9]+))?$/.exec(flag.trim());
  // The name is setrlimit(2)'s without RLIMIT_, as docker takes it; the runtime refuses one it does not know.
  if (!m) throw new UsageError(`invalid --ulimit "${flag}": expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) throw new UsageError(`invalid --ulimit "${flag}": the soft limit is above the hard limit`);
  return { type: `RLIMIT_${m[1].toUpperCase()}`, soft, hard };
}

/** --tmpfs /run[:size=64m,mode=1777] -> a tmpfs mount with docker's default noexec,nosuid,nodev. */
export function tmpfsMount(flag: string): OciMount {
  const at = flag.indexOf(':');
  const [dest, opts] = at < 0 ? [flag, ''] : [flag.slice(0, at), flag.slice(at + 1)];
  if (!posix.isAbsolute(dest)) throw new UsageError(`invalid --tmpfs "${flag}": the container path must be absolute`);
  return { destination: posix.normalize(dest), type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...opts.split(',').filter(Boolean)] };
}

/** -e KEY=VALUE sets; -e KEY copies the caller's value when it has one (as docker does). */
export function applyEnvFlags(env: string[], flags: string[]): string[] {
  const out = [...env];
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    if (!name) throw new UsageError(`invalid environment variable "${flag}"`);
    const value = eq < 0 ? process.env[name] : flag.slice(eq + 1);
    if (value === undefined) continue;
    const entry = `${name}=${value}`;
    const at = out.findIndex((e) => e.split('=', 1)[0] === name);
    if (at >= 0) out[at] = entry;
    else out.push(entry);
  }
  return out;
}

/** -v HOST:CONTAINER[:ro|rw] -> a bind mount; the host path must exist. */
export async function volumeMount(flag: string): Promise<OciMount> {
  const parts = flag.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw new UsageError(`invalid volume "${flag}": expected HOST:CONTAINER[:ro]`);
  const [host, ctr, mode = 'rw'] = parts;
  if (mode !== 'ro' && mode !== 'rw') throw new UsageError(`invalid volume "${flag}": mode must be ro or rw`);
  if (!isAbsolute(ctr)) throw new UsageError(`invalid volume "${flag}": the container path must be absolute`);
  const source = resolve(host);
  await stat(source).catch(() => {
    throw new UsageError(`invalid volume "${flag}": ${source} does not exist`);
  });
  return { destination: posix.normalize(ctr), type: 'bind', source, options: ['rbind', mode] };
}

function resources(spec: OciConfig): Record<string, Record<string, unknown>> {
  spec.linux ??= {};
  spec.linux.resources ??= {};
  return spec.linux.resources as Record<string, Record<string, unknown>>;
}

/** Applies every flag except --user (which needs the rootfs). */
export async function applyRunOptions(spec: OciConfig, o: RunOptions): Promise<void> {
  const proc = spec.process!;
  if (o.tty) {
    proc.terminal = true;
    proc.env = applyEnvFlags(proc.env ?? [], proc.env?.some((e) => e.startsWith('TERM=')) ? [] : ['TERM=xterm']);
  }
  if (o.env?.length) proc.env = applyEnvFlags(proc.env ?? [], o.env);
  if (o.workdir !== undefined) {
    if (!posix.isAbsolute(o.workdir)) throw new UsageError(`invalid --workdir "${o.workdir}": must be absolute`);
    proc.cwd = o.workdir;
  }
  if (o.hostname !== undefined) spec.hostname = o.hostname;
  if (o.readOnly) spec.root = { path: spec.root?.path ?? 'rootfs', readonly: true };
  for (const flag of o.volumes ?? []) {
    const mount = await volumeMount(flag);
    spec.mounts = [...(spec.mounts ?? []).filter((m) => m.destination !== mount.destination), mount];
  }
  if (o.memory !== undefined) (resources(spec).memory ??= {}).limit = parseMemory(o.memory);
  const cpu = () => (resources(spec).cpu ??= {});
  if (o.cpus !== undefined) {
    if (!(o.cpus > 0)) throw new UsageError(`invalid --cpus ${o.cpus}: must be positive`);
    Object.assign(cpu(), { period: 100000, quota: Math.round(o.cpus * 100000) });
  }
  if (o.cpuShares !== undefined) cpu().shares = o.cpuShares;
  if (o.cpusetCpus !== undefined) cpu().cpus = o.cpusetCpus;
  if (o.pidsLimit !== undefined) resources(spec).pids = { limit: o.pidsLimit };
  for (const flag of o.ulimits ?? []) {
    const limit = parseUlimit(flag);
    proc.rlimits = [...(proc.rlimits ?? []).filter((r) => r.type !== limit.type), limit];
  }
  if (o.shmSize !== undefined) {
    const size = parseSize(o.shmSize, '--shm-size');
    const shm = spec.mounts?.find((m) => m.destination === '/dev/shm');
    if (shm) shm.options = [...(shm.options ?? []).filter((opt) => !opt.startsWith('size=')), `size=${size}`];
  }
  for (const flag of o.sysctls ?? []) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --sysctl "${flag}": expected KEY=VALUE`);
    spec.linux ??= {};
    spec.linux.sysctl = { ...((spec.linux.sysctl as Record<string, string>) ?? {}), [flag.slice(0, eq)]: flag.slice(eq + 1) };
  }
  for (const flag of o.tmpfs ?? []) {
    const mount = tmpfsMount(flag);
    spec.mounts = [...(spec.mounts ?? []).filter((m) => m.destination !== mount.destination), mount];
  }
}
