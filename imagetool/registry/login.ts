// login/logout: verify credentials against a registry, then keep or drop them
// in docker's config.json.
import { DEFAULT_DOMAIN } from '../reference/index.js';
import { originClient } from './index.js';
import { removeCredentials, storeCredentials, type Credentials } from './credentials.js';
import type { RegistriesConfig } from './hosts.js';

/** "https://index.docker.io/v1/" or "registry-1.docker.io" -> "docker.io"; "http://h:5000/" -> "h:5000". */
export function registryHost(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  const host = server.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io'].includes(host) ? DEFAULT_DOMAIN : host;
}

export async function login(server: string | undefined, creds: Credentials, registries: RegistriesConfig, insecure: string[]): Promise<string> {
  const host = registryHost(server);
  const client = await originClient({ domain: host, path: '' }, { registries, insecureRegistries: insecure, credentials: creds });
  await client.checkCredentials();
  await storeCredentials(host, creds);
  return host;
}

export async function logout(server: string | undefined): Promise<{ host: string; removed: boolean }> {
  const host = registryHost(server);
  return { host, removed: await removeCredentials(host) };
}
