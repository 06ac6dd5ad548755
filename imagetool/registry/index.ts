// The registry client's entry points for other modules (pull here; push in
// the image-bundle work): a client for a repository on its registry itself
// (no mirrors: mirrors serve pulls only), with stored credentials.
import type { Reference } from '../reference/index.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { lookupCredentials, type Credentials } from './credentials.js';
import { endpointsFor, type RegistriesConfig } from './hosts.js';

export { RegistryClient, type ClientOptions, type FetchedManifest } from './client.js';
export { AuthError, NotFoundInRegistryError, RegistryError, UnsupportedError } from './errors.js';
export { loadRegistriesConfig, type RegistriesConfig } from './hosts.js';
export { fetchWithRetry, type HttpResponse, type RequestInit } from './transport.js';

export interface OriginOptions extends Omit<ClientOptions, 'credentials'> {
  registries: RegistriesConfig;
  insecureRegistries?: string[];
  /** Defaults to the credentials stored for the registry. */
  credentials?: Credentials;
}

/** A client for `ref`'s repository on the registry itself; e.g. actions ['pull', 'push'] to push. */
export async function originClient(ref: Pick<Reference, 'domain' | 'path'>, opts: OriginOptions): Promise<RegistryClient> {
  const { registries, insecureRegistries = [], credentials, ...client } = opts;
  const endpoint = endpointsFor(ref.domain, { ...registries, mirrors: {} }, insecureRegistries)[0];
  return new RegistryClient(endpoint, ref.path, { ...client, credentials: credentials ?? (await lookupCredentials(ref.domain)) });
}
