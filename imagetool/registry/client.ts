// A client for one repository on one registry endpoint (OCI distribution /
// Docker registry HTTP API v2): the /v2/ ping (which also picks the scheme and
// learns the auth challenge), authenticated requests, manifests and blobs.
import { DigestMismatchError, INDEX_TYPES, MANIFEST_TYPES, SCHEMA1_TYPES, sha256Digest } from '../store/index.js';
import { basicAuth, bearerToken, forgetToken, parseChallenge, tokenKey, type Challenge } from './auth.js';
import { AuthError, NotFoundInRegistryError, RegistryError, UnsupportedError } from './errors.js';
import { fetchOnce, fetchWithRetry, type HttpResponse, type RequestInit, type RetryEvents } from './transport.js';
import type { Credentials } from './credentials.js';
import type { Endpoint } from './hosts.js';

/** The distribution spec lets registries refuse manifests over 4 MiB; so do we. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const ACCEPT = [...MANIFEST_TYPES, ...INDEX_TYPES, ...SCHEMA1_TYPES].join(', ');

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

export interface ClientOptions extends RetryEvents {
  credentials?: Credentials;
  /** Token scope actions; pull by default (push clients ask for pull,push). */
  actions?: string[];
}

export class RegistryClient {
  private base?: string;
  private challenge?: Challenge;

  constructor(
    readonly endpoint: Endpoint,
    readonly repository: string,
    private readonly opts: ClientOptions = {},
  ) {}

  private get scope(): string {
    return `repository:${this.repository}:${(this.opts.actions ?? ['pull']).join(',')}`;
  }

  /** GET /v2/: picks https (or http for insecure hosts) and records the auth challenge. */
  async ping(): Promise<string> {
    if (this.base) return this.base;
    const { host, scheme, insecure } = this.endpoint;
    let res: HttpResponse | undefined;
    let base = `${scheme ?? 'https'}://${host}`;
    if (!scheme && insecure) {
      // An insecure registry may speak plain HTTP: try TLS once, then fall back.
      res = await fetchOnce(`${base}/v2/`, {}, insecure).catch(() => undefined);
      if (!res) base = `http://${host}`;
      else if (res.status >= 500) {
        // TLS works; the retrying request below deals with the server error.
        await res.text().catch(() => '');
        res = undefined;
      }
    }
    res ??= await fetchWithRetry(`${base}/v2/`, {}, { insecureTls: insecure, onRetry: this.opts.onRetry });
    await res.text().catch(() => '');
    if (res.status === 401) {
      this.challenge = parseChallenge(res.headers.get('www-authenticate'));
      if (!this.challenge) throw new AuthError(`${base}/v2/: 401 without a usable WWW-Authenticate challenge`, `${base}/v2/`, 401);
    } else if (res.status !== 200) {
      throw new RegistryError(`${base}/v2/: not a v2 registry (HTTP ${res.status})`, `${base}/v2/`, res.status);
    }
    this.base = base;
    return base;
  }

  private async authorization(): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      if (!this.opts.credentials) {
        throw new AuthError(`${this.endpoint.registry}: authentication required (run: rocker-image login ${this.endpoint.registry})`, undefined, 401);
      }
      return basicAuth(this.opts.credentials);
    }
    return `Bearer ${await bearerToken(ch, this.scope, this.opts.credentials, this.endpoint.insecure)}`;
  }

  /** Checks that the credentials are accepted (login): Basic against /v2/, Bearer at the token realm. */
  async checkCredentials(): Promise<void> {
    const base = await this.ping();
    const ch = this.challenge;
    if (!ch) return;
    if (ch.scheme === 'bearer') {
      await bearerToken(ch, '', this.opts.credentials, this.endpoint.insecure);
      return;
    }
    const res = await fetchWithRetry(`${base}/v2/`, { headers: { authorization: (await this.authorization())! } }, { insecureTls: this.endpoint.insecure });
    await res.text().catch(() => '');
    if (res.status !== 200) throw new AuthError(`${base}/v2/: unauthorized: incorrect username or password (HTTP ${res.status})`, `${base}/v2/`, res.status);
  }

  /** A request to `path` (under /v2/<repository>/), authenticated, retried on 5xx/429. */
  async request(path: string, init: RequestInit = {}): Promise<HttpResponse> {
    const base = await this.ping();
    const url = path.startsWith('http') ? path : `${base}/v2/${this.repository}/${path}`;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization();
      const headers = { ...init.headers, ...(auth ? { authorization: auth } : {}) };
      const res = await fetchWithRetry(url, { ...init, headers }, { insecureTls: this.endpoint.insecure, onRetry: this.opts.onRetry });
      if (res.status !== 401 && res.status !== 403) return res;
      const text = await res.text().catch(() => '');
      const ch = parseChallenge(res.headers.get('www-authenticate'));
      // A 401 with a (new) challenge means the token expired or lacks scope: get a fresh one once.
      if (attempt === 0 && res.status === 401 && ch) {
        if (this.challenge?.scheme === 'bearer') forgetToken(tokenKey(this.challenge, this.scope, this.opts.credentials));
        this.challenge = ch;
        continue;
      }
      const hint = this.opts.credentials ? '' : ` (log in with: rocker-image login ${this.endpoint.registry})`;
      throw new AuthError(`${init.method ?? 'GET'} ${url}: ${registryMessage(text) ?? (res.status === 401 ? 'unauthorized' : 'denied')} (HTTP ${res.status})${hint}`, url, res.status);
    }
  }

  /** Fetches a manifest or index by tag or digest and verifies its digest. */
  async getManifest(reference: string): Promise<FetchedManifest> {
    const res = await this.request(`manifests/${reference}`, { headers: { accept: ACCEPT } });
    const what = `${this.endpoint.registry}/${this.repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    await expectOk(res, what, 'manifest');
    const length = Number(res.headers.get('content-length'));
    if (length > MAX_MANIFEST_BYTES) throw new UnsupportedError(`${what}: manifest of ${length} bytes exceeds ${MAX_MANIFEST_BYTES}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) throw new UnsupportedError(`${what}: manifest exceeds ${MAX_MANIFEST_BYTES} bytes`);
    const digest = sha256Digest(bytes);
    const expected = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest');
    if (expected?.startsWith('sha256:') && expected !== digest) throw new DigestMismatchError(expected, digest, `manifest ${what}`);
    return { mediaType: manifestMediaType(res.headers.get('content-type'), bytes, what), digest, bytes };
  }

  /** GET of a blob, from byte `offset` on (a 206 if the registry honours Range, else a 200). */
  async getBlob(digest: string, offset = 0): Promise<HttpResponse> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await this.request(`blobs/${digest}`, { headers });
    await expectOk(res, `${this.endpoint.registry}/${this.repository}@${digest}`, 'blob');
    return res;
  }
}

function registryMessage(text: string): string | undefined {
  try {
    const e = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    return e ? [e.code, e.message].filter(Boolean).join(': ') : undefined;
  } catch {
    return undefined;
  }
}

async function expectOk(res: HttpResponse, what: string, kind: string): Promise<void> {
  if (res.status === 200 || res.status === 206) return;
  const text = await res.text().catch(() => '');
  const msg = registryMessage(text);
  if (res.status === 404) throw new NotFoundInRegistryError(`${what}: ${kind} not found${msg ? ` (${msg})` : ''}`, what, 404);
  throw new RegistryError(`${what}: fetching ${kind} failed with HTTP ${res.status}${msg ? `: ${msg}` : ''}`, what, res.status);
}

/** The manifest's media type from Content-Type, or its own mediaType field; schema 1 is refused. */
function manifestMediaType(contentType: string | null, bytes: Buffer, what: string): string {
  const header = contentType?.split(';')[0].trim();
  let doc: { mediaType?: string; schemaVersion?: number; manifests?: unknown; config?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UnsupportedError(`${what}: manifest is not JSON`);
  }
  if (doc.schemaVersion === 1 || (header && SCHEMA1_TYPES.includes(header))) {
    throw new UnsupportedError(`${what}: Docker image manifest schema 1 is deprecated and not supported; re-push the image with a current tool (schema 2 or OCI)`);
  }
  for (const t of [header, doc.mediaType]) if (t && (MANIFEST_TYPES.includes(t) || INDEX_TYPES.includes(t))) return t;
  // OCI documents may omit mediaType: tell an index from a manifest by shape.
  if (Array.isArray(doc.manifests)) return INDEX_TYPES[0];
  if (doc.config) return MANIFEST_TYPES[0];
  throw new UnsupportedError(`${what}: unsupported manifest media type ${header ?? doc.mediaType ?? '(none)'}`);
}
