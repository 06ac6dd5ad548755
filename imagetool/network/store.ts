// Network management: create, list, inspect and remove the conflists in the
// config dir. Creation and removal hold the config dir's lock, so two creates
// cannot both take an overlapping subnet and a remove cannot race an attach.
import { readFileSync, readdirSync, writeFileSync, renameSync, unlinkSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { buildConflist, networkFacts, type Conflist, type NetworkFacts } from './conflist.js';
import { type Cidr, parseCidr, parseIPv4, formatCidr, formatIPv4, overlaps, isHostAddress } from './cidr.js';
import { type NetworkDirs, conflistPath, ipamDir, attachmentsDir } from './dirs.js';
import { withLock } from './lock.js';
import { readAttachment, type Attachment } from './attachment.js';
import { NetworkError } from './errors.js';

export const DEFAULT_NETWORK = 'rocker';
/** Subnets for networks created without --subnet are the first free /24 of this pool. */
const POOL: Cidr = parseCidr('10.210.0.0/16');
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export interface CreateOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  driver?: string;
}

export interface NetworkInfo extends NetworkFacts {
  containers: { id: string; ip?: string; mac?: string; ports: Attachment['portMappings'] }[];
}

export const configLock = (d: NetworkDirs) => join(d.configDir, '.lock');

export function validateName(name: string): void {
  if (!NAME.test(name) || name === 'none' || name === 'host') {
    throw new NetworkError(
      `invalid network name "${name}": use letters, digits, "_", "." or "-" (at most 64, not "none" or "host")`,
    );
  }
}

export function readConflist(d: NetworkDirs, name: string): Conflist {
  validateName(name);
  const file = conflistPath(d, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NetworkError(`network ${name} not found`);
    throw e;
  }
  try {
    return JSON.parse(text) as Conflist;
  } catch (e) {
    throw new NetworkError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
}

export function listNetworks(d: NetworkDirs): NetworkFacts[] {
  let names: string[];
  try {
    names = readdirSync(d.configDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.conflist'))
    .sort()
    .map((n) => networkFacts(readConflist(d, n.slice(0, -'.conflist'.length)), join(d.configDir, n)));
}

/** IPv4 routes of the host (except default routes): a new subnet must not shadow them. */
function hostRoutes(): { dev: string; cidr: Cidr }[] {
  const lines = readFileSync('/proc/net/route', 'utf8').trim().split('\n').slice(1);
  const swap = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
  return lines
    .map((l) => l.trim().split(/\s+/))
    .map(([dev, dst, , , , , , mask]) => {
      const m = swap(mask);
      return { dev, cidr: { base: swap(dst), prefix: Math.clz32(~m >>> 0) } }; // masks are contiguous ones
    })
    .filter((r) => r.cidr.prefix > 0);
}

function usedSubnets(d: NetworkDirs): { owner: string; cidr: Cidr }[] {
  return [
    ...listNetworks(d).map((n) => ({ owner: `network ${n.name}`, cidr: parseCidr(n.subnet) })),
    ...hostRoutes().map((r) => ({ owner: `a host route on ${r.dev}`, cidr: r.cidr })),
  ];
}

function pickSubnet(used: { cidr: Cidr }[]): Cidr {
  for (let base = POOL.base; base < POOL.base + 2 ** (32 - POOL.prefix); base += 256) {
    const c = { base, prefix: 24 };
    if (!used.some((u) => overlaps(u.cidr, c))) return c;
  }
  throw new NetworkError(`no free /24 subnet left in ${formatCidr(POOL)}: pass --subnet`);
}

function linkExists(name: string): boolean {
  return existsSync(join('/sys/class/net', name));
}

function newBridgeName(): string {
  for (;;) {
    const name = `rk-${randomBytes(4).toString('hex')}`;
    if (!linkExists(name)) return name;
  }
}

function createLocked(d: NetworkDirs, o: CreateOptions): NetworkFacts {
  validateName(o.name);
  if ((o.driver ?? 'bridge') !== 'bridge') {
    throw new NetworkError(`invalid driver "${o.driver}": only "bridge" is supported`);
  }
  const file = conflistPath(d, o.name);
  if (existsSync(file)) throw new NetworkError(`network ${o.name} already exists`);
  const used = usedSubnets(d);
  const subnet = o.subnet ? parseCidr(o.subnet) : pickSubnet(used);
  if (subnet.prefix < 8 || subnet.prefix > 30) {
    throw new NetworkError(`invalid subnet "${formatCidr(subnet)}": prefix length must be 8 to 30`);
  }
  const clash = used.find((u) => overlaps(u.cidr, subnet));
  if (clash) {
    throw new NetworkError(`subnet ${formatCidr(subnet)} overlaps ${clash.owner} (${formatCidr(clash.cidr)})`);
  }
  const gateway = o.gateway ? parseIPv4(o.gateway, 'gateway') : subnet.base + 1;
  if (!isHostAddress(subnet, gateway)) {
    throw new NetworkError(`invalid gateway ${formatIPv4(gateway)}: not a host address of ${formatCidr(subnet)}`);
  }
  const list = buildConflist({
    name: o.name,
    subnet: formatCidr(subnet),
    gateway: formatIPv4(gateway),
    bridge: newBridgeName(),
    ipamDataDir: ipamDir(d),
  });
  // Written whole then renamed: a crash never leaves a half-written network.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(list, null, 2) + '\n');
  renameSync(tmp, file);
  return networkFacts(list, file);
}

export function createNetwork(d: NetworkDirs, o: CreateOptions): Promise<NetworkFacts> {
  mkdirSync(d.configDir, { recursive: true });
  return withLock(configLock(d), () => createLocked(d, o));
}

/** The network `name`, creating it first when it is the default network and missing. */
export async function ensureNetwork(d: NetworkDirs, name: string): Promise<NetworkFacts> {
  if (name === DEFAULT_NETWORK && !existsSync(conflistPath(d, name))) {
    mkdirSync(d.configDir, { recursive: true });
    await withLock(configLock(d), () => existsSync(conflistPath(d, name)) || createLocked(d, { name }));
  }
  return networkFacts(readConflist(d, name), conflistPath(d, name));
}

function attachmentsOf(d: NetworkDirs, name: string): Attachment[] {
  let files: string[];
  try {
    files = readdirSync(attachmentsDir(d));
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.json'))
    .map((f) => readAttachment(d, f.slice(0, -'.json'.length)))
    .filter((a): a is Attachment => !!a && a.network === name);
}

export function inspectNetwork(d: NetworkDirs, name: string): NetworkInfo {
  const facts = networkFacts(readConflist(d, name), conflistPath(d, name));
  const containers = attachmentsOf(d, name).map((a) => ({
    id: a.id,
    ip: a.result?.ips?.[0]?.address,
    mac: a.result?.interfaces?.find((i) => i.sandbox)?.mac,
    ports: a.portMappings,
  }));
  return { ...facts, containers };
}

/** Removes the network, its bridge and its lease directory; refused while containers are attached. */
export function removeNetwork(d: NetworkDirs, name: string): Promise<void> {
  return withLock(configLock(d), () => {
    const facts = networkFacts(readConflist(d, name), conflistPath(d, name));
    const users = attachmentsOf(d, name).map((a) => a.id);
    if (users.length) throw new NetworkError(`network ${name} is in use by container(s): ${users.join(', ')}`);
    if (linkExists(facts.bridge)) {
      const r = spawnSync('ip', ['link', 'del', facts.bridge], { encoding: 'utf8' });
      if (r.status !== 0) throw new NetworkError(`removing bridge ${facts.bridge}: ${(r.stderr || r.error?.message || '').trim()}`);
    }
    rmSync(join(ipamDir(d), name), { recursive: true, force: true });
    unlinkSync(conflistPath(d, name));
  });
}
