// --publish [hostIP:]hostPort:containerPort[/tcp|udp] parsing, and the host-wide
// reservation of published ports: one file per protocol and host port, created
// with O_EXCL, so two containers can never publish the same port.
import { openSync, writeSync, closeSync, readFileSync, readdirSync, unlinkSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PortMapping } from './cni.js';
import { parseIPv4, formatIPv4 } from './cidr.js';
import { NetworkError } from './errors.js';
import { type NetworkDirs, portsDir, attachmentPath } from './dirs.js';

function parsePort(text: string, spec: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new NetworkError(`invalid --publish "${spec}": port "${text}" is not in 1-65535`);
  return n;
}

export function parsePublish(spec: string): PortMapping {
  const m = /^(?:(.+):)?([^:/]+):([^:/]+)(?:\/(.*))?$/.exec(spec);
  if (!m) throw new NetworkError(`invalid --publish "${spec}": expected [hostIP:]hostPort:containerPort[/tcp|udp]`);
  const [, hostIP, host, ctr, proto = 'tcp'] = m;
  if (proto !== 'tcp' && proto !== 'udp') {
    throw new NetworkError(`invalid --publish "${spec}": protocol "${proto}" is not tcp or udp`);
  }
  const mapping: PortMapping = { hostPort: parsePort(host, spec), containerPort: parsePort(ctr, spec), protocol: proto };
  // Normalised so the stored form compares equal however it was written.
  if (hostIP !== undefined) mapping.hostIP = formatIPv4(parseIPv4(hostIP, `--publish host IP in "${spec}"`));
  return mapping;
}

const reservation = (d: NetworkDirs, p: PortMapping) => join(portsDir(d), `${p.protocol}-${p.hostPort}`);

/**
 * Reserves every mapping's host port for container `id`. A host port belongs to
 * at most one container whatever the host IP (simple, and never ambiguous).
 * A reservation whose owner has no attachment any more (it crashed before
 * recording one) is taken over. On a conflict nothing stays reserved.
 */
export function reservePorts(d: NetworkDirs, id: string, mappings: PortMapping[]): void {
  mkdirSync(portsDir(d), { recursive: true });
  const taken: PortMapping[] = [];
  try {
    for (const p of mappings) {
      const file = reservation(d, p);
      for (;;) {
        try {
          const fd = openSync(file, 'wx', 0o644);
          writeSync(fd, id);
          closeSync(fd);
          taken.push(p);
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const owner = readOwner(file);
        if (owner === id) throw new NetworkError(`--publish: host port ${p.hostPort}/${p.protocol} is given twice`);
        if (owner && existsSync(attachmentPath(d, owner))) {
          throw new NetworkError(`host port ${p.hostPort}/${p.protocol} is already published by container ${owner}`);
        }
        unlinkQuiet(file); // stale: its owner is gone
      }
    }
  } catch (e) {
    for (const p of taken) unlinkQuiet(reservation(d, p));
    throw e;
  }
}

function readOwner(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Drops every reservation held by `id` (found by owner, so it works without the attachment record). */
export function releasePorts(d: NetworkDirs, id: string): void {
  let names: string[];
  try {
    names = readdirSync(portsDir(d));
  } catch {
    return;
  }
  for (const n of names) if (readOwner(join(portsDir(d), n)) === id) unlinkQuiet(join(portsDir(d), n));
}
