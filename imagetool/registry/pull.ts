// Pull: resolve a reference on its registry (mirrors first), narrow an index
// to one platform, then fetch config and layers into the store (layers in
// parallel; each streamed to disk while hashed, and into its layer snapshot
// (unpack/while-pulling.ts); resumed with Range after a dropped connection;
// restarted once after corrupt bytes). The ref is written last, once every
// blob is stored and every layer's snapshot committed: a crash or a layer
// that cannot be unpacked leaves only blobs and snapshots that no ref uses,
// which gc removes.
import { validateImageIndex, validateImageManifest, validateImageConfig } from '../../schemas/validators.js';
import { join } from 'node:path';
import { DEFAULT_DOMAIN, formatReference, parseReference, type Reference } from '../reference/index.js';
import {
  assertSchema, configPlatform, dockerManifestToOci, DigestMismatchError, InvalidContentError, isIndexType, isManifestType,
  MT, selectManifest, SizeMismatchError, sha256Digest, type BlobWriter, type Descriptor, type ImageConfig,
  type ImageIndex, type ImageManifest, type Lease, type Platform, type Store,
} from '../store/index.js';
import { RockerError } from '../../runtime/errors.js';
import { LayerError } from '../unpack/errors.js';
import { DEFAULT_LAYER_LIMITS, type LayerLimits } from '../unpack/limits.js';
import { layerBlobs } from '../unpack/snapshots.js';
import { SnapshotsWhilePulling, type LayerSink } from '../unpack/while-pulling.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import { lookupCredentials } from './credentials.js';
import { RegistryError, UnsupportedError } from './errors.js';
import { endpointsFor, SYSTEM_REGISTRIES_CONFIG, type RegistriesConfig } from './hosts.js';
import { backoffDelay, DEFAULT_RETRY, sleep } from './transport.js';

/** What a pull reports as it goes; the CLI draws bars or prints lines from it. */
export interface PullProgress {
  layerStart?(d: Descriptor): void;
  layerBytes?(d: Descriptor, written: number): void;
  layerDone?(d: Descriptor, how: 'downloaded' | 'exists'): void;
  retry?(what: string, reason: string): void;
}

export interface PullOptions {
  platform: Platform;
  registries: RegistriesConfig;
  insecureRegistries?: string[];
  /** Layers fetched at once. */
  concurrency?: number;
  /** Unpack the layers into snapshots as they download (default true). */
  unpack?: boolean;
  /** What a layer may expand to (default: DEFAULT_LAYER_LIMITS). */
  limits?: LayerLimits;
  progress?: PullProgress;
}

export interface PullResult {
  name: string;
  /** The stored manifest (OCI; a Docker schema 2 manifest is converted). */
  manifest: Descriptor;
  /** The digest the registry served the manifest under. */
  sourceDigest: string;
  config: Descriptor;
  layers: Descriptor[];
  /** Layers fetched (the others were in the store already). */
  downloaded: number;
}

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** A layer of the image cannot be unpacked: the pull fails without writing its ref. */
export class UnpackError extends RockerError {
  constructor(name: string, cause: LayerError) {
    super(`pull ${name}: cannot unpack ${cause.message}; no ref was written (the verified blobs stay until rocker-image gc)`, cause.context);
  }
}

export async function pull(store: Store, input: string, opts: PullOptions): Promise<PullResult> {
  const ref = parseReference(input);
  const endpoints = endpointsFor(ref.domain, opts.registries, opts.insecureRegistries ?? []);
  const credentials = await lookupCredentials(ref.domain);
  for (const ep of endpoints) {
    const client = new RegistryClient(ep, ref.path, {
      credentials: ep.mirror ? await lookupCredentials(ep.host) : credentials,
      onRetry: (reason, delay) => opts.progress?.retry?.(ep.host, `${reason}; retrying in ${Math.round(delay)}ms`),
    });
    try {
      return await store.withLease((lease) => pullFrom(client, store, lease, ref, opts));
    } catch (e) {
      // A mirror that fails is skipped; the registry itself is the last word.
      // A layer that cannot be unpacked is the image's fault (its bytes were verified), not the mirror's.
      if (e instanceof UnpackError) throw e;
      if (!ep.mirror) throw withExpansionHint(e, input, ref, store.root);
      opts.progress?.retry?.(ep.host, `mirror failed (${(e as Error).message}); trying next`);
    }
  }
  throw new RegistryError(`no endpoint for ${ref.domain}`);
}

/**
 * A short name that failed says what it meant (`nginx` is
 * docker.io/library/nginx:latest) and how to reach Docker Hub through a mirror.
 */
function withExpansionHint(e: unknown, input: string, ref: Reference, root: string): unknown {
  const full = formatReference(ref);
  if (!(e instanceof Error) || ref.domain !== DEFAULT_DOMAIN || input.startsWith(`${DEFAULT_DOMAIN}/`) || input === full) return e;
  e.message =
    `${input} (expanded to ${full}): ${e.message}\n` +
    `  to pull it through a mirror, list one in ${join(root, 'registries.json')} or ${SYSTEM_REGISTRIES_CONFIG}: ` +
    `{"mirrors": {"${DEFAULT_DOMAIN}": ["https://mirror.example.com"]}}`;
  return e;
}

function parseJSON<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new InvalidContentError(`${what}: not JSON: ${(e as Error).message}`);
  }
}

/** The single-platform manifest `ref` denotes (fetching through an index if needed). */
async function resolveManifest(client: RegistryClient, ref: Reference, platform: Platform, name: string): Promise<FetchedManifest> {
  let fetched = await client.getManifest(ref.digest ?? ref.tag!);
  if (isIndexType(fetched.mediaType)) {
    const index = parseJSON<ImageIndex>(fetched.bytes, `index ${name}`);
    assertSchema(validateImageIndex, index, `index ${name}`);
    const chosen = selectManifest(index.manifests.filter((d) => isManifestType(d.mediaType)), platform, name);
    fetched = await client.getManifest(chosen.digest);
    if (!isManifestType(fetched.mediaType)) throw new UnsupportedError(`${name}: index entry ${chosen.digest} is not an image manifest (${fetched.mediaType})`);
  }
  return fetched;
}

async function pullFrom(client: RegistryClient, store: Store, lease: Lease, ref: Reference, opts: PullOptions): Promise<PullResult> {
  const name = formatReference(ref);
  const fetched = await resolveManifest(client, ref, opts.platform, name);
  const source = parseJSON<ImageManifest>(fetched.bytes, `manifest ${name}`);
  assertSchema(validateImageManifest, source, `manifest ${name}`);
  const manifestBytes = fetched.mediaType === MT.dockerManifest ? Buffer.from(JSON.stringify(dockerManifestToOci(source))) : fetched.bytes;
  const manifest = parseJSON<ImageManifest>(manifestBytes, `manifest ${name}`);
  const manifestDigest = sha256Digest(manifestBytes);
  await lease.add([manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);

  const config = await fetchConfig(client, store, manifest.config, name);
  const snapshots =
    opts.unpack === false
      ? undefined
      : new SnapshotsWhilePulling(store, layerBlobs(store, { layers: manifest.layers, config, configDescriptor: manifest.config }), opts.limits ?? DEFAULT_LAYER_LIMITS);
  let downloaded = 0;
  try {
    await forEachBounded(manifest.layers, opts.concurrency ?? DEFAULT_CONCURRENCY, async (layer, i) => {
      const how = await downloadBlob(client, store, layer, opts.progress, snapshots && (() => snapshots.sink(i)));
      if (how === 'downloaded') downloaded++;
      opts.progress?.layerDone?.(layer, how);
      await snapshots?.stored(i).catch((e: unknown) => {
        throw e instanceof LayerError ? new UnpackError(name, e) : e;
      });
    });
    if (snapshots && !snapshots.complete) throw new Error(`${name}: not every layer was unpacked`);
    const stored = await store.writeBlob(manifestBytes, { digest: manifestDigest, size: manifestBytes.length });
    const descriptor: Descriptor = { mediaType: MT.ociManifest, ...stored, platform: configPlatform(config) };
    await store.setRef(name, descriptor);
    return { name, manifest: descriptor, sourceDigest: fetched.digest, config: manifest.config, layers: manifest.layers, downloaded };
  } finally {
    await snapshots?.discard();
  }
}

/** Layers fetched at once: each is also unpacked on the way, so all of a typical image. */
const DEFAULT_CONCURRENCY = 8;

async function fetchConfig(client: RegistryClient, store: Store, d: Descriptor, name: string): Promise<ImageConfig> {
  if (d.size > MAX_CONFIG_BYTES) throw new UnsupportedError(`${name}: config of ${d.size} bytes is too large`);
  if (!(await store.hasBlob(d.digest, d.size))) {
    const res = await client.getBlob(d.digest);
    const bytes = Buffer.from(await res.arrayBuffer());
    const actual = sha256Digest(bytes);
    if (actual !== d.digest) throw new DigestMismatchError(d.digest, actual, `config of ${name}`);
    assertSchema(validateImageConfig, parseJSON(bytes, `config ${d.digest}`), `config ${d.digest}`);
    await store.writeBlob(bytes, { digest: d.digest, size: d.size });
  }
  const config = await store.readJSON<ImageConfig>(d.digest);
  assertSchema(validateImageConfig, config, `config ${d.digest}`);
  return config;
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure wins. */
async function forEachBounded<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await fn(items[index], index);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const err = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (err) throw err.reason;
}

/**
 * Streams one blob into the store (and into `openSink`'s snapshot, if given). A
 * connection lost mid-body is resumed from the bytes already hashed (Range), or
 * restarted if the registry ignores Range; bytes that do not hash to the digest
 * are discarded and fetched once more. A restart leaves the layer's unpacking
 * to bundle.
 */
async function downloadBlob(
  client: RegistryClient,
  store: Store,
  d: Descriptor,
  progress?: PullProgress,
  openSink?: () => Promise<LayerSink | undefined>,
): Promise<'downloaded' | 'exists'> {
  if (await store.hasBlob(d.digest, d.size)) return 'exists';
  progress?.layerStart?.(d);
  const expected = { digest: d.digest, size: d.size };
  const sink = await openSink?.();
  const newWriter = async () => {
    const w = await store.createBlobWriter(expected);
    if (sink) w.onPiece = (piece) => sink.push(piece);
    return w;
  };
  let writer: BlobWriter = await newWriter();
  let refetches = 1;
  let failures = 0;
  try {
    for (;;) {
      const res = await client.getBlob(d.digest, writer.written);
      if (writer.written > 0 && !rangeStartsAt(res, writer.written)) {
        await writer.abort();
        sink?.abandon();
        writer = await newWriter();
      }
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          await writer.write(chunk);
          progress?.layerBytes?.(d, writer.written);
        }
        // A connection closed cleanly but early is a loss to resume, not corruption.
        if (writer.written < d.size) throw new Error(`connection closed after ${writer.written} of ${d.size} bytes`);
        await writer.commit();
        sink?.end();
        return 'downloaded';
      } catch (e) {
        if (e instanceof DigestMismatchError || e instanceof SizeMismatchError) {
          await writer.abort();
          sink?.abandon();
          if (refetches-- <= 0) throw e;
          progress?.retry?.(d.digest, `${e.message}; fetching again`);
          writer = await newWriter();
          continue;
        }
        if (isLocalIOError(e)) throw e;
        if (++failures >= DEFAULT_RETRY.attempts) throw new RegistryError(`blob ${d.digest}: ${(e as Error).message} (gave up after ${failures} attempts)`);
        const delay = backoffDelay(failures - 1);
        progress?.retry?.(d.digest, `${(e as Error).message} at byte ${writer.written}; resuming in ${Math.round(delay)}ms`);
        await sleep(delay);
      }
    }
  } finally {
    await writer.abort();
  }
}

/** Whether a response continues a download at byte `offset`. */
function rangeStartsAt(res: { status: number; headers: { get(n: string): string | null } }, offset: number): boolean {
  if (res.status !== 206) return false;
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  return !!m && Number(m[1]) === offset;
}

/** A failure of the local disk (full, read-only, I/O error) is not the network's: no retry. */
function isLocalIOError(e: unknown): boolean {
  return ['open', 'write', 'writev', 'fsync', 'rename'].includes((e as NodeJS.ErrnoException).syscall ?? '');
}
