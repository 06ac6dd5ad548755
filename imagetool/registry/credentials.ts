// Registry credentials, looked up where podman and docker keep them: podman's
// auth.json ($REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json),
// then docker's config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json).
// Both have `auths` keyed by registry host (Docker Hub as
// https://index.docker.io/v1/), each with a base64 "user:password" `auth`;
// `credHelpers` (per host) and `credsStore` (for all) name a
// docker-credential-NAME program that is asked instead.
// login/logout rewrite docker's file atomically with mode 0600, keeping other keys.
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';
import { DEFAULT_DOMAIN } from '../reference/index.js';
import { writeFileAtomic } from '../store/fsutil.js';

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
  credsStore?: string;
  credHelpers?: Record<string, string>;
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

/** The files searched, in order: podman's auth.json first, as podman and skopeo do, then docker's. */
export function credentialFiles(): string[] {
  const podman = process.env.REGISTRY_AUTH_FILE || (process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined);
  return [...(podman ? [podman] : []), dockerConfigPath()];
}

/** `docker-credential-NAME get`: the server on stdin, {"Username","Secret"} on stdout. */
function fromHelper(name: string, server: string, file: string): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return Promise.reject(new RockerError(`${file}: invalid credential helper name ${JSON.stringify(name)}`, { file }));
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) {
        // The helper's own way to say it has nothing for this server.
        if (/credentials not found/i.test(`${stdout}${stderr}`)) return resolve(undefined);
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found in PATH' : (stderr || stdout || err.message).trim();
        return reject(new RockerError(`credential helper ${program} (from ${file}) failed for ${server}: ${why}`, { file }));
      }
      try {
        const out = JSON.parse(stdout) as { Username?: string; Secret?: string };
        resolve(out.Secret ? { username: out.Username ?? '', password: out.Secret } : undefined);
      } catch {
        reject(new RockerError(`credential helper ${program} (from ${file}) printed no JSON for ${server}`, { file }));
      }
    });
    child.stdin?.end(`${server}\n`);
  });
}

/** Credentials for a registry host (as in a reference's domain), if any file or helper has some. */
export async function lookupCredentials(host: string): Promise<Credentials | undefined> {
  const matches = (key: string) => (isHub(host) ? isHub(key) : keyHost(key) === host);
  for (const path of credentialFiles()) {
    const cfg = await readConfig(path);
    const helper = Object.entries(cfg.credHelpers ?? {}).find(([key]) => matches(key));
    if (helper) return fromHelper(helper[1], helper[0], path);
    for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
      if (!matches(key)) continue;
      const c = decode(entry, path, key);
      if (c) return c;
    }
    if (cfg.credsStore) {
      const c = await fromHelper(cfg.credsStore, configKey(host), path);
      if (c) return c;
    }
  }
  return undefined;
}

async function writeConfig(cfg: DockerConfig): Promise<void> {
  const path = dockerConfigPath();
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
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
