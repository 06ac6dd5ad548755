// Registry credentials in docker's config.json ($DOCKER_CONFIG/config.json or
// ~/.docker/config.json): `auths` keyed by registry host (Docker Hub as
// https://index.docker.io/v1/), each with a base64 "user:password" `auth`.
// login/logout rewrite the file atomically with mode 0600, keeping other keys.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';
import { DEFAULT_DOMAIN } from '../reference/index.js';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  [k: string]: unknown;
}

const HUB_KEY = 'https://index.docker.io/v1/';
const HUB_ALIASES = [HUB_KEY, 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** "https://host:port/v1/" -> "host:port". */
function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
}

const isHub = (host: string): boolean => HUB_ALIASES.map(keyHost).includes(keyHost(host));

async function readConfig(path = dockerConfigPath()): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (e) {
    throw new RockerError(`${path}: invalid JSON: ${(e as Error).message}`, { file: path });
  }
}

function decode(entry: AuthEntry, path: string, key: string): Credentials | undefined {
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) throw new RockerError(`${path}: auths["${key}"].auth: expected base64 of "user:password"`, { file: path });
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Credentials stored for a registry host (as in a reference's domain), if any. */
export async function lookupCredentials(host: string): Promise<Credentials | undefined> {
  const path = dockerConfigPath();
  const auths = (await readConfig(path)).auths ?? {};
  for (const [key, entry] of Object.entries(auths)) {
    const match = isHub(host) ? isHub(key) : keyHost(key) === host;
    if (match) {
      const c = decode(entry, path, key);
      if (c) return c;
    }
  }
  return undefined;
}

async function writeConfig(cfg: DockerConfig): Promise<void> {
  const path = dockerConfigPath();
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

const configKey = (host: string): string => (host === DEFAULT_DOMAIN || isHub(host) ? HUB_KEY : host);

export async function storeCredentials(host: string, creds: Credentials): Promise<void> {
  const cfg = await readConfig();
  cfg.auths = { ...cfg.auths, [configKey(host)]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  await writeConfig(cfg);
}

/** Returns false when nothing was stored for `host`. */
export async function removeCredentials(host: string): Promise<boolean> {
  const cfg = await readConfig();
  const keys = Object.keys(cfg.auths ?? {}).filter((k) => (isHub(host) ? isHub(k) : keyHost(k) === host));
  if (!keys.length) return false;
  for (const k of keys) delete cfg.auths![k];
  await writeConfig(cfg);
  return true;
}
