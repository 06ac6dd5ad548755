// Where a registry host is reached: its mirrors first (from registries.json),
// then the registry itself; and whether plain HTTP is allowed (loopback or
// --insecure-registry / the config's "insecure" list only).
//
// registries.json (<root>/registries.json, else /etc/rocker/registries.json):
//   { "mirrors": { "docker.io": ["https://mirror.example.com"] },
//     "insecure": ["registry.lan:5000"] }
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';
import { DEFAULT_DOMAIN } from '../reference/index.js';

export const SYSTEM_REGISTRIES_CONFIG = '/etc/rocker/registries.json';
const HUB_ENDPOINT = 'registry-1.docker.io';

export interface RegistriesConfig {
  mirrors: Record<string, string[]>;
  insecure: string[];
}

export interface Endpoint {
  /** The registry's name in references (credentials are looked up by it). */
  registry: string;
  /** host[:port] actually contacted. */
  host: string;
  /** Preset scheme from a mirror URL; otherwise https (with http fallback if insecure). */
  scheme?: 'http' | 'https';
  insecure: boolean;
  mirror: boolean;
}

const CONFIG_KEYS = ['mirrors', 'insecure'];

export async function loadRegistriesConfig(root: string): Promise<RegistriesConfig> {
  for (const path of [join(root, 'registries.json'), SYSTEM_REGISTRIES_CONFIG]) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    try {
      const raw = JSON.parse(text) as Partial<RegistriesConfig>;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('expected a JSON object with "mirrors" and "insecure"');
      // A misspelt key would otherwise be ignored silently (and the mirror never used).
      const unknown = Object.keys(raw).filter((k) => !CONFIG_KEYS.includes(k));
      if (unknown.length) throw new Error(`unknown key ${JSON.stringify(unknown[0])} (the keys are ${CONFIG_KEYS.map((k) => `"${k}"`).join(' and ')})`);
      if (raw.insecure !== undefined && (!Array.isArray(raw.insecure) || raw.insecure.some((h) => typeof h !== 'string'))) {
        throw new Error('"insecure" must be a list of host[:port] strings');
      }
      const mirrors = raw.mirrors ?? {};
      if (typeof mirrors !== 'object' || Object.values(mirrors).some((v) => !Array.isArray(v))) {
        throw new Error('"mirrors" must map a registry to a list of URLs');
      }
      return { mirrors, insecure: raw.insecure ?? [] };
    } catch (e) {
      throw new RockerError(`${path}: ${(e as Error).message}`, { file: path });
    }
  }
  return { mirrors: {}, insecure: [] };
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** The endpoints to try for `registry`, in order. */
export function endpointsFor(registry: string, cfg: RegistriesConfig, insecureFlags: string[]): Endpoint[] {
  const insecureList = [...cfg.insecure, ...insecureFlags];
  const insecure = (host: string): boolean => isLoopback(host) || insecureList.includes(host);
  const mirrors = (cfg.mirrors[registry] ?? []).map((url): Endpoint => {
    const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(url);
    if (!m) throw new RockerError(`registries.json: invalid mirror URL "${url}" (expected [scheme://]host[:port])`);
    if (m[1] === 'http' && !insecure(m[2])) {
      throw new RockerError(`registries.json: mirror "${url}" uses plain HTTP; list "${m[2]}" under "insecure" (or --insecure-registry) to allow it`);
    }
    return { registry, host: m[2], scheme: m[1] as Endpoint['scheme'], insecure: insecure(m[2]), mirror: true };
  });
  const host = registry === DEFAULT_DOMAIN ? HUB_ENDPOINT : registry;
  return [...mirrors, { registry, host, insecure: insecure(host) || insecure(registry), mirror: false }];
}
