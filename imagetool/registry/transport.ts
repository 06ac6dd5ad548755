// HTTP for the registry client: node's http/https over keep-alive agents (one
// connection pool per process), TLS-then-plain fallback only for hosts allowed
// to be insecure, and retries with exponential backoff on connection failures,
// 5xx and 429 (whose Retry-After is honoured). Node's own client rather than a
// fetch library: a response body is the socket's stream itself (no extra pipe
// per chunk), and nothing but http is loaded (https when a URL needs it).
import http from 'node:http';
import type https from 'node:https';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.js';

export interface HttpResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: NodeJS.ReadableStream;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string | NodeJS.ReadableStream;
  redirect?: 'follow' | 'manual';
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** ROCKER_RETRY_BASE_MS shortens the backoff (tests); the default suits real registries. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: Number(process.env.ROCKER_RETRY_BASE_MS ?? 250),
  maxDelayMs: 10_000,
};

/** ROCKER_IDLE_TIMEOUT_MS shortens it (tests). */
const IDLE_TIMEOUT_MS = Number(process.env.ROCKER_IDLE_TIMEOUT_MS ?? 60_000);
const MAX_REDIRECTS = 20;

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let httpsModule: typeof https | undefined;
const httpsAgents = new Map<boolean, https.Agent>();

async function transportFor(url: URL, insecureTls: boolean): Promise<{ request: typeof http.request; agent: http.Agent }> {
  if (url.protocol === 'http:') return { request: http.request, agent: httpAgent };
  if (url.protocol !== 'https:') throw new Error(`unsupported URL scheme ${url.protocol}`);
  httpsModule ??= (await import('node:https')).default;
  let agent = httpsAgents.get(insecureTls);
  if (!agent) httpsAgents.set(insecureTls, (agent = new httpsModule.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !insecureTls })));
  return { request: httpsModule.request, agent };
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function response(res: http.IncomingMessage): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    headers: {
      get(name) {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
      },
    },
    body: res,
    text: async () => (await readAll(res)).toString('utf8'),
    arrayBuffer: async () => {
      const b = await readAll(res);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
    },
  };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One exchange, redirects followed (as fetch does: 303, and 301/302 after a
 * POST, continue as a GET without a body; credentials are not sent to another
 * host). A connection that goes silent is dropped with a "no data" error, one
 * closed mid-body fails the body stream.
 */
async function exchange(url: URL, init: RequestInit, insecureTls: boolean, redirects = 0): Promise<HttpResponse> {
  const { request, agent } = await transportFor(url, insecureTls);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent });
    let current: http.IncomingMessage | undefined;
    req.setTimeout(IDLE_TIMEOUT_MS, () => {
      const err = new Error(`no data from the registry for ${IDLE_TIMEOUT_MS / 1000}s`);
      current?.destroy(err);
      req.destroy(err);
    });
    req.on('error', reject);
    req.on('response', (r) => {
      current = r;
      // Node fails an incomplete body with a bare "aborted": say what happened.
      r.on('aborted', () => r.destroy(new Error('connection lost before the response was complete')));
      resolve(r);
    });
    const body = init.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else {
      (body as Readable).on('error', (e) => req.destroy(e));
      (body as Readable).pipe(req);
    }
  });
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if (!REDIRECTS.has(status) || !location || init.redirect === 'manual') return response(res);
  res.resume();
  if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
  const next = new URL(location, url);
  const asGet = status === 303 || ((status === 301 || status === 302) && init.method === 'POST');
  if (!asGet && init.body !== undefined && typeof init.body !== 'string' && !Buffer.isBuffer(init.body)) {
    throw new Error(`redirected (HTTP ${status}) with a streamed body that cannot be sent again`);
  }
  const headers = { ...init.headers };
  if (next.host !== url.host) {
    for (const h of Object.keys(headers)) if (/^(authorization|cookie)$/i.test(h)) delete headers[h];
  }
  if (asGet) {
    for (const h of Object.keys(headers)) if (/^content-(length|type|range)$/i.test(h)) delete headers[h];
  }
  return exchange(next, { ...init, headers, ...(asGet ? { method: 'GET', body: undefined } : {}) }, insecureTls, redirects + 1);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function backoffDelay(attempt: number, policy: RetryPolicy = DEFAULT_RETRY): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return exp / 2 + Math.random() * (exp / 2);
}

/** Retry-After as seconds or an HTTP date, in ms (capped to a minute). */
export function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, Math.min(ms, 60_000)) : undefined;
}

const RETRYABLE_STATUS = (s: number): boolean => s === 429 || s === 502 || s === 503 || s === 504 || s === 500;

/** One request, no retries; `insecureTls` disables certificate checks (insecure registries). */
export async function fetchOnce(url: string, init: RequestInit = {}, insecureTls = false): Promise<HttpResponse> {
  try {
    return await exchange(new URL(url), init, insecureTls);
  } catch (e) {
    const err = new RegistryError(`${init.method ?? 'GET'} ${url}: ${(e as Error).message}`, url);
    err.permanent = PERMANENT_ERRORS.test(String((e as NodeJS.ErrnoException).code ?? '')) || /certificate|self.signed/i.test((e as Error).message);
    throw err;
  }
}

/** Failures no retry can fix: unknown host, TLS verification. */
const PERMANENT_ERRORS = /^(ENOTFOUND|ERR_TLS_CERT_ALTNAME_INVALID|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/;

export interface RetryEvents {
  onRetry?(reason: string, delayMs: number): void;
}

/**
 * A request retried on connection errors, 5xx and 429. Request bodies must be
 * replayable (buffers/strings) for a retry to happen; streams are sent once.
 */
export async function fetchWithRetry(url: string, init: RequestInit = {}, opts: { insecureTls?: boolean; policy?: RetryPolicy } & RetryEvents = {}): Promise<HttpResponse> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const replayable = init.body === undefined || typeof init.body === 'string' || Buffer.isBuffer(init.body);
  for (let attempt = 0; ; attempt++) {
    const last = attempt + 1 >= policy.attempts || !replayable;
    let reason: string;
    let delay = backoffDelay(attempt, policy);
    try {
      const res = await fetchOnce(url, init, opts.insecureTls);
      if (!RETRYABLE_STATUS(res.status) || last) return res;
      reason = `HTTP ${res.status}`;
      delay = retryAfterMs(res.headers.get('retry-after')) ?? delay;
      await res.text().catch(() => '');
    } catch (e) {
      if (last || (e as RegistryError).permanent) throw e;
      reason = (e as Error).message;
    }
    opts.onRetry?.(reason, delay);
    await sleep(delay);
  }
}
