// HTTP for the registry client: cross-fetch over keep-alive agents (one
// connection pool per process), TLS-then-plain fallback only for hosts allowed
// to be insecure, and retries with exponential backoff on connection failures,
// 5xx and 429 (whose Retry-After is honoured).
import http from 'node:http';
import https from 'node:https';
import crossFetch from 'cross-fetch';
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

/**
 * node-fetch pipes the response into the body stream it returns, and a pipe
 * does not pass on the source's failure: a connection lost mid-body would
 * leave the body waiting forever. The agents therefore watch each request
 * they carry, and the request's owner (fetchOnce) fails the body when the
 * response closes incomplete.
 */
interface Watch {
  lost?: Error;
  onLost?: (e: Error) => void;
}
let nextWatch: Watch | undefined;

/** ROCKER_IDLE_TIMEOUT_MS shortens it (tests). */
const IDLE_TIMEOUT_MS = Number(process.env.ROCKER_IDLE_TIMEOUT_MS ?? 60_000);

function watchResponses<T extends http.Agent>(agent: T): T {
  const add = (agent as unknown as { addRequest(req: http.ClientRequest, o: unknown): void }).addRequest.bind(agent);
  (agent as unknown as { addRequest(req: http.ClientRequest, o: unknown): void }).addRequest = (req, o) => {
    const watch = nextWatch;
    nextWatch = undefined;
    // A connection that goes silent (headers or body) is dropped, to be retried or resumed.
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no data from the registry for ${IDLE_TIMEOUT_MS / 1000}s`)));
    req.on('response', (res: http.IncomingMessage) => {
      res.on('close', () => {
        if (res.complete || !watch) return;
        watch.lost = new Error('connection lost before the response was complete');
        watch.onLost?.(watch.lost);
      });
    });
    add(req, o);
  };
  return agent;
}

const httpAgent = watchResponses(new http.Agent({ keepAlive: true, maxSockets: 16 }));
const httpsAgent = watchResponses(new https.Agent({ keepAlive: true, maxSockets: 16 }));
const insecureHttpsAgent = watchResponses(new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false }));

type NodeFetch = (url: string, init: Record<string, unknown>) => Promise<HttpResponse>;
const fetchImpl = crossFetch as unknown as NodeFetch;

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
  const agent = url.startsWith('https:') ? (insecureTls ? insecureHttpsAgent : httpsAgent) : httpAgent;
  const watch: Watch = {};
  try {
    // node-fetch asks for the agent and hands it the request in the same tick.
    const pending = fetchImpl(url, { ...init, agent: () => ((nextWatch = watch), agent), compress: false });
    nextWatch = undefined;
    const res = await pending;
    const body = res.body as NodeJS.ReadableStream & { destroy(e: Error): void };
    watch.onLost = (e) => body.destroy(e);
    if (watch.lost) body.destroy(watch.lost);
    return res;
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
