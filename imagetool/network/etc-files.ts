// The /etc/hosts, /etc/hostname and /etc/resolv.conf a networked container gets,
// generated into its bundle and bind-mounted over the image's files.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseIPv4 } from './cidr.js';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

const BASE_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

function hostsText(hostname: string, ip?: string): string {
  return BASE_HOSTS + (ip ? `${ip}\t${hostname}\n` : '');
}

/**
 * Rewrites the hosts file in place (same inode): it is already bind-mounted
 * into the container when the attach hook learns the address.
 */
export function writeHostsFile(file: string, hostname: string, ip: string): void {
  writeFileSync(file, hostsText(hostname, ip));
}

/**
 * resolv.conf: the --dns servers, or else the host's, without loopback servers
 * (a container's own loopback has no resolver).
 */
function resolvText(dns: string[] | undefined): string {
  if (dns?.length) return dns.map((s) => `nameserver ${s}\n`).join('');
  let host = '';
  try {
    host = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // no resolver configured on the host: the container gets none either
  }
  return host
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$)/.test(l))
    .join('\n');
}

/** Writes the three files into `dir`; `shareHost` copies the host's (for --network host). */
export function writeEtcFiles(dir: string, hostname: string, dns: string[] | undefined, ip?: string, shareHost = false): EtcFiles {
  mkdirSync(dir, { recursive: true });
  for (const s of dns ?? []) parseIPv4(s, '--dns server');
  const files = { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') };
  writeFileSync(files.hosts, shareHost ? readFileSync('/etc/hosts', 'utf8') : hostsText(hostname, ip));
  writeFileSync(files.hostname, `${hostname}\n`);
  writeFileSync(files.resolvConf, shareHost && !dns?.length ? readFileSync('/etc/resolv.conf', 'utf8') : resolvText(dns));
  return files;
}
