// Uploading one blob to a repository (distribution spec "push"): existence
// check, cross-repository mount, then a monolithic PUT or PATCH chunks + PUT.
import { createReadStream } from 'node:fs';
import type { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import type { HttpResponse } from '../registry/transport.js';
import type { Descriptor } from '../store/index.js';

export type BlobOutcome = 'exists' | 'mounted' | 'uploaded';

export interface UploadOptions {
  /** A repository on the same registry that should hold the blob already. */
  mountFrom?: string;
  /** Upload in PATCH chunks of this many bytes; monolithic when unset. */
  chunkSize?: number;
}

async function fail(res: HttpResponse, what: string): Promise<never> {
  const text = await res.text().catch(() => '');
  throw new RegistryError(`${what}: HTTP ${res.status}${text ? `: ${text.trim().slice(0, 300)}` : ''}`, undefined, res.status);
}

/** Absolute upload URL from a Location header (registries may send a relative one). */
async function uploadUrl(client: RegistryClient, res: HttpResponse, what: string): Promise<URL> {
  const location = res.headers.get('location');
  if (!location) throw new RegistryError(`${what}: the registry sent no upload Location`);
  return new URL(location, await client.ping());
}

function withDigest(url: URL, digest: string): string {
  const u = new URL(url);
  u.searchParams.set('digest', digest);
  return u.toString();
}

async function exists(client: RegistryClient, d: Descriptor): Promise<boolean> {
  const res = await client.request(`blobs/${d.digest}`, { method: 'HEAD' });
  await res.text().catch(() => '');
  return res.status === 200;
}

/** Starts an upload session, or mounts the blob when a `from` repository has it. */
async function startUpload(client: RegistryClient, d: Descriptor, from: string | undefined): Promise<URL | 'mounted'> {
  const query = from ? `?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}` : '';
  const res = await client.request(`blobs/uploads/${query}`, { method: 'POST', headers: { 'content-length': '0' } });
  if (from && res.status === 201) {
    await res.text().catch(() => '');
    return 'mounted';
  }
  if (res.status !== 202) return fail(res, `start upload of ${d.digest}`);
  await res.text().catch(() => '');
  return uploadUrl(client, res, `start upload of ${d.digest}`);
}

async function putMonolithic(client: RegistryClient, url: URL, d: Descriptor, path: string): Promise<void> {
  const res = await client.request(withDigest(url, d.digest), {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(d.size) },
    body: createReadStream(path),
  });
  if (res.status !== 201) return fail(res, `upload ${d.digest}`);
  await res.text().catch(() => '');
}

async function putChunked(client: RegistryClient, url: URL, d: Descriptor, path: string, chunkSize: number): Promise<void> {
  let next = url;
  for (let start = 0; start < d.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, d.size) - 1;
    const res = await client.request(next.toString(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - start + 1), 'content-range': `${start}-${end}` },
      body: createReadStream(path, { start, end }),
    });
    if (res.status !== 202) return fail(res, `upload ${d.digest} bytes ${start}-${end}`);
    await res.text().catch(() => '');
    next = await uploadUrl(client, res, `upload ${d.digest}`);
  }
  const res = await client.request(withDigest(next, d.digest), { method: 'PUT', headers: { 'content-length': '0' } });
  if (res.status !== 201) return fail(res, `finish upload of ${d.digest}`);
  await res.text().catch(() => '');
}

export async function pushBlob(client: RegistryClient, d: Descriptor, path: string, o: UploadOptions = {}): Promise<BlobOutcome> {
  if (await exists(client, d)) return 'exists';
  // A refused mount still opens an upload session, which the upload then uses.
  const session = await startUpload(client, d, o.mountFrom);
  if (session === 'mounted') return 'mounted';
  if (o.chunkSize && d.size > o.chunkSize) await putChunked(client, session, d, path, o.chunkSize);
  else await putMonolithic(client, session, d, path);
  return 'uploaded';
}
