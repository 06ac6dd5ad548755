// Registry authentication: WWW-Authenticate challenges, the Bearer token flow
// (anonymous or with credentials, one scope per repository, tokens cached for
// their lifetime) and Basic auth.
import { AuthError } from './errors.js';
import { fetchWithRetry } from './transport.js';
import { isLoopback } from './hosts.js';
import type { Credentials } from './credentials.js';

export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  return { scheme, params };
}

export function basicAuth(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens by realm, service, scope and user; shared by every client in the process. */
const tokenCache = new Map<string, CachedToken>();
const MIN_TOKEN_LIFETIME_S = 60;

export function forgetToken(key: string): void {
  tokenCache.delete(key);
}

export function tokenKey(ch: Challenge, scope: string, creds?: Credentials): string {
  return [ch.params.realm, ch.params.service ?? '', scope, creds?.username ?? ''].join('|');
}

/**
 * A bearer token for `scope` (e.g. repository:library/nginx:pull), from cache or
 * the realm. `insecure` (the registry may use plain HTTP) also allows a plain
 * HTTP realm; otherwise credentials only travel to a loopback or https realm.
 */
export async function bearerToken(ch: Challenge, scope: string, creds: Credentials | undefined, insecure: boolean): Promise<string> {
  const key = tokenKey(ch, scope, creds);
  const cached = tokenCache.get(key);
  if (cached && cached.expiresAt > Date.now()) return cached.token;
  const realm = ch.params.realm;
  if (!realm) throw new AuthError('registry sent a Bearer challenge without a realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new AuthError(`registry sent an invalid token realm "${realm}"`);
  }
  if (creds && url.protocol !== 'https:' && !insecure && !isLoopback(url.host)) {
    throw new AuthError(`${realm}: refusing to send credentials to a token server over plain HTTP`, realm);
  }
  if (ch.params.service) url.searchParams.set('service', ch.params.service);
  if (scope) url.searchParams.set('scope', scope);
  const headers: Record<string, string> = creds ? { authorization: basicAuth(creds) } : {};
  const res = await fetchWithRetry(url.toString(), { headers }, { insecureTls: insecure });
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new AuthError(`${realm}: ${creds ? 'unauthorized: incorrect username or password' : 'anonymous token refused; log in first'} (HTTP ${res.status})`, realm, res.status);
  }
  if (res.status !== 200) throw new AuthError(`${realm}: token request failed with HTTP ${res.status}`, realm, res.status);
  let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
  try {
    body = JSON.parse(text);
  } catch {
    throw new AuthError(`${realm}: token response is not JSON`, realm);
  }
  const token = body.token ?? body.access_token;
  if (!token) throw new AuthError(`${realm}: token response has no token`, realm);
  const lifetime = Math.max(MIN_TOKEN_LIFETIME_S, Number(body.expires_in) || MIN_TOKEN_LIFETIME_S);
  const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
  // Renew a little early so a token never expires between check and use.
  const expiresAt = (Number.isFinite(issued) ? issued : Date.now()) + lifetime * 1000 - 5000;
  tokenCache.set(key, { token, expiresAt });
  return token;
}
