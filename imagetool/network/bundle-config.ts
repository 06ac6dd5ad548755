// What a bundle needs to be networked: the config.json pieces for
// --network/--publish/--ip/--dns, and the /etc files they mount. Everything the
// hooks need is in their arguments (absolute paths, no environment), so the
// bundle runs the same under runc, crun or rocker-runtime.
import { fileURLToPath } from 'node:url';
import { basename, dirname, join, resolve } from 'node:path';
import { networkDirs, type NetworkDirs } from './dirs.js';
import { ensureNetwork, DEFAULT_NETWORK } from './store.js';
import { parsePublish } from './publish.js';
import { parseCidr, parseIPv4, isHostAddress } from './cidr.js';
import { writeEtcFiles } from './etc-files.js';
import { DEFAULT_CNI_PATH } from './cni.js';
import { NetworkError } from './errors.js';

export interface NetworkOptions {
  /** The bundle directory; the /etc files are written to <bundleDir>/network/. */
  bundleDir: string;
  /** A network name, "none" (only lo) or "host" (the host's namespace); default: the default network. */
  network?: string;
  /** --publish specs: [hostIP:]hostPort:containerPort[/tcp|udp]. */
  publish?: string[];
  ip?: string;
  dns?: string[];
  /** Default: the bundle directory's name. */
  hostname?: string;
  configDir?: string;
  stateDir?: string;
  cniPath?: string;
}

interface Hook {
  path: string;
  args: string[];
  env: string[];
}

interface Mount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface NetworkConfig {
  /** Replaces any "network" entry of linux.namespaces (empty for host: share the host's). */
  namespaces: { type: 'network' }[];
  /** Appended to config.json's hooks of the same names. */
  hooks: { createRuntime?: Hook[]; poststop?: Hook[] };
  /** Appended to config.json's mounts. */
  mounts: Mount[];
  annotations: Record<string, string>;
  /** config.json's hostname (needs a UTS namespace). */
  hostname: string;
}

export const ANNOTATION = 'org.rocker.network';
const HOOK_BIN = fileURLToPath(new URL('../../../bin/rocker-network-hook', import.meta.url));
// The hook is a node script; hooks may be started with an empty environment.
const HOOK_ENV = [`PATH=${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`];

function hook(verb: 'attach' | 'detach', d: NetworkDirs, cniPath: string, extra: string[]): Hook {
  const args = ['rocker-network-hook', verb, '--config-dir', d.configDir, '--state-dir', d.stateDir, '--cni-path', cniPath];
  return { path: HOOK_BIN, args: [...args, ...extra], env: HOOK_ENV };
}

function etcMounts(files: { hosts: string; hostname: string; resolvConf: string }): Mount[] {
  const bind = (destination: string, source: string) => ({ destination, type: 'bind', source, options: ['rbind', 'rprivate'] });
  return [bind('/etc/hosts', files.hosts), bind('/etc/hostname', files.hostname), bind('/etc/resolv.conf', files.resolvConf)];
}

export async function networkConfigFor(o: NetworkOptions): Promise<NetworkConfig> {
  const bundleDir = resolve(o.bundleDir);
  const network = o.network || DEFAULT_NETWORK;
  const hostname = o.hostname || basename(bundleDir);
  const publish = (o.publish ?? []).map(parsePublish);
  const etcDir = join(bundleDir, 'network');
  const annotations: Record<string, string> = { [ANNOTATION]: network };
  if (network === 'host' || network === 'none') {
    if (publish.length || o.ip) throw new NetworkError(`--publish and --ip need a bridge network, not --network ${network}`);
    const files = writeEtcFiles(etcDir, hostname, o.dns, undefined, network === 'host');
    return {
      namespaces: network === 'host' ? [] : [{ type: 'network' }],
      hooks: {},
      mounts: etcMounts(files),
      annotations,
      hostname,
    };
  }
  const d = networkDirs(o.configDir, o.stateDir);
  const net = await ensureNetwork(d, network);
  if (o.ip) {
    const subnet = parseCidr(net.subnet);
    const ip = parseIPv4(o.ip, '--ip');
    if (!isHostAddress(subnet, ip) || o.ip === net.gateway) {
      throw new NetworkError(`invalid --ip ${o.ip}: not a host address of network ${network} (${net.subnet}, gateway ${net.gateway})`);
    }
  }
  const files = writeEtcFiles(etcDir, hostname, o.dns);
  const cniPath = o.cniPath || DEFAULT_CNI_PATH;
  const attachArgs = ['--network', network, '--hosts-file', files.hosts, '--hostname', hostname];
  for (const p of o.publish ?? []) attachArgs.push('--publish', p);
  if (o.ip) attachArgs.push('--ip', o.ip);
  if (publish.length) annotations[`${ANNOTATION}.publish`] = (o.publish ?? []).join(',');
  annotations[`${ANNOTATION}.state-dir`] = d.stateDir;
  return {
    namespaces: [{ type: 'network' }],
    hooks: { createRuntime: [hook('attach', d, cniPath, attachArgs)], poststop: [hook('detach', d, cniPath, [])] },
    mounts: etcMounts(files),
    annotations,
    hostname,
  };
}

/** The parts of a config.json `applyNetwork` touches (structural, so any config type fits). */
export interface SpecLike {
  hostname?: string;
  mounts?: { destination: string }[];
  hooks?: { [stage: string]: unknown[] | undefined };
  annotations?: { [key: string]: string };
  linux?: { namespaces?: { type: string; path?: string }[] };
}

/**
 * Merges the network pieces into `spec`: its network namespace replaced, hooks
 * appended, /etc files mounted over any earlier mounts of the same paths,
 * annotations added. The hostname is the spec's when set (e.g. --hostname).
 */
export async function applyNetwork(spec: SpecLike, o: NetworkOptions): Promise<void> {
  const n = await networkConfigFor({ ...o, hostname: o.hostname || spec.hostname });
  spec.hostname = n.hostname;
  spec.linux ??= {};
  spec.linux.namespaces = [...(spec.linux.namespaces ?? []).filter((ns) => ns.type !== 'network'), ...n.namespaces];
  if (!spec.linux.namespaces.some((ns) => ns.type === 'uts')) spec.linux.namespaces.push({ type: 'uts' });
  spec.hooks ??= {};
  for (const [stage, hooks] of Object.entries(n.hooks)) spec.hooks[stage] = [...(spec.hooks[stage] ?? []), ...hooks];
  const taken = new Set(n.mounts.map((m) => m.destination));
  spec.mounts = [...(spec.mounts ?? []).filter((m) => !taken.has(m.destination)), ...n.mounts];
  spec.annotations = { ...spec.annotations, ...n.annotations };
}
