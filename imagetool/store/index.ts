// rocker-image content store: an OCI image layout under --root.
//
//   <root>/oci-layout, <root>/index.json, <root>/blobs/sha256/<hex>   (the OCI layout;
//       refs are index.json entries annotated org.opencontainers.image.ref.name, so
//       `skopeo inspect oci:<root>:<ref>` and umoci read it)
//   <root>/tmp/        temp files named <pid>-<starttime>-<rand>; those of dead
//                      processes are removed when the store is opened
//   <root>/leases/     digests a running pull is about to reference (gc keeps them)
//   <root>/lock        the store lock (lock.ts)
//   <root>/snapshots/  reserved for unpacked bundles/snapshots (image-bundle)
//
// API (all paths absolute, all digests "sha256:<hex>"):
//   const store = await Store.open(root)              create/repair the layout
//   await store.resolve('busybox', platform?)         -> ResolvedImage: ref name, manifest
//        descriptor + manifest, config descriptor + config, layer descriptors; accepts a
//        ref (normalised like docker), a full or short image id (config digest) or a
//        manifest digest; an index is narrowed to `platform` (default: host)
//   store.blobPath(digest)                            path of a stored blob
//   store.blobStream(digest)                          readable that errors if the bytes
//                                                     do not hash to digest
//   await store.readBlob(digest) / readJSON(digest)   whole blob, verified
//   await store.hasBlob(digest, size?)
//   await store.writeBlob(bufferOrStream, {digest?, size?}) -> {digest, size}; verified
//        before it gets its name; createBlobWriter() for incremental writes
//   await store.setRef(name, descriptor)              add/replace a ref (under the lock)
//   await store.removeRef(name), store.listRefs(), store.updateIndex(fn)
//   await store.lease(digests) / withLease(fn)        keep what a writer is about to
//        reference (and blobs it writes meanwhile) safe from a concurrent gc
//   await store.gc()                                  drop unreferenced blobs
//   await store.verify()                              re-hash every blob
//
// Every index.json change happens under the store lock (lock.ts: <root>/lock),
// which only root can take and the kernel releases if its holder dies.
import { chmod, mkdir, readFile, readdir, stat, unlink, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { validateImageConfig, validateImageIndex, validateImageManifest } from '../../schemas/validators.js';
import type { Validator } from '../../schemas/validator-types.js';
import { normalizeReference } from '../reference/index.js';
import { BlobWriter, VerifyingStream, digestHex, sha256Digest, type BlobRef, type Expected } from './blobs.js';
import { BlobNotFoundError, DigestMismatchError, ImageNotFoundError, InvalidContentError } from './errors.js';
import { writeFileAtomic } from './fsutil.js';
import { isIndexType, isManifestType, MT, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from './mediatypes.js';
import { ownerAlive } from './owner.js';
import { Lease, liveLeases } from './lease.js';
import { withStoreLock } from './lock.js';
import { hostPlatform, selectManifest } from './platform.js';

export { BlobWriter, VerifyingStream, digestHex, sha256Digest, type BlobRef, type Expected } from './blobs.js';
export * from './errors.js';
export type { Lease } from './lease.js';
export * from './mediatypes.js';
export { hostPlatform, parsePlatform, formatPlatform, selectManifest, configPlatform } from './platform.js';

export const REF_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });
const EMPTY_INDEX: ImageIndex = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };

export interface RefEntry {
  name: string;
  descriptor: Descriptor;
}

export interface ResolvedImage {
  /** The ref name it was found under (undefined when found by id/digest only). */
  name?: string;
  /** What index.json points at (a manifest, or an index). */
  descriptor: Descriptor;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
  layers: Descriptor[];
}

/** Checks a document against a schema validator, naming the first failing field. */
export function assertSchema(validator: Validator, data: unknown, what: string): void {
  if (validator(data)) return;
  const e = validator.errors?.[0];
  throw new InvalidContentError(`${what}: ${e?.instancePath || '(root)'}: ${e?.message ?? 'invalid'}`);
}

export class Store {
  readonly blobDir: string;
  readonly tmpDir: string;
  readonly leaseDir: string;
  readonly snapshotDir: string;
  readonly indexPath: string;

  private constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.tmpDir = join(root, 'tmp');
    this.leaseDir = join(root, 'leases');
    this.snapshotDir = join(root, 'snapshots');
    this.indexPath = join(root, 'index.json');
  }

  /** Opens (creating or repairing) the layout at `root`. */
  static async open(root: string): Promise<Store> {
    const s = new Store(root);
    await mkdir(s.blobDir, { recursive: true });
    // Layers are unpacked in tmp/: image content is root's alone there too.
    await mkdir(s.tmpDir, { recursive: true, mode: 0o700 });
    await chmod(s.tmpDir, 0o700);
    await mkdir(s.leaseDir, { recursive: true });
    await s.repair();
    return s;
  }

  /** Writes missing layout files and removes temp files and leases of dead processes. */
  private async repair(): Promise<void> {
    const layoutPath = join(this.root, 'oci-layout');
    const layoutOk = await readFile(layoutPath, 'utf8').then((t) => JSON.parse(t).imageLayoutVersion === '1.0.0', () => false);
    if (!layoutOk) await writeFileAtomic(layoutPath, LAYOUT, { tmpDir: this.tmpDir });
    // index.json is only ever replaced by rename, so a crash cannot damage it; one
    // that is damaged anyway is reported by readIndex, never silently emptied.
    const hasIndex = await stat(this.indexPath).then(() => true, () => false);
    if (!hasIndex) await this.updateIndex(() => {});
    for (const dir of [this.tmpDir, this.leaseDir]) {
      for (const name of await readdir(dir)) {
        if (!ownerAlive(name)) await rm(join(dir, name), { force: true, recursive: true });
      }
    }
  }

  blobPath(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    try {
      const st = await stat(this.blobPath(digest));
      return st.isFile() && (size === undefined || st.size === size);
    } catch {
      return false;
    }
  }

  /** The blob's bytes; the stream errors at its end if they do not match the digest. */
  blobStream(digest: string): Readable {
    const verify = new VerifyingStream(digest);
    const src = createReadStream(this.blobPath(digest));
    src.on('error', (e: NodeJS.ErrnoException) => verify.destroy(e.code === 'ENOENT' ? new BlobNotFoundError(digest) : e));
    return src.pipe(verify);
  }

  async readBlob(digest: string): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(digest);
      throw e;
    }
    const actual = sha256Digest(data);
    if (actual !== digest) throw new DigestMismatchError(digest, actual, 'stored blob');
    return data;
  }

  async readJSON<T>(digest: string): Promise<T> {
    const data = await this.readBlob(digest);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (e) {
      throw new InvalidContentError(`blob ${digest}: not JSON: ${(e as Error).message}`);
    }
  }

  createBlobWriter(expected: Expected = {}): Promise<BlobWriter> {
    return BlobWriter.create(this.tmpDir, this.blobDir, expected);
  }

  /** Stores bytes (a buffer or a stream) after verifying them against `expected`. */
  async writeBlob(data: Buffer | string | AsyncIterable<Buffer | Uint8Array | string>, expected: Expected = {}): Promise<BlobRef> {
    if (expected.digest && (await this.hasBlob(expected.digest, expected.size))) {
      return { digest: expected.digest, size: (await stat(this.blobPath(expected.digest))).size };
    }
    const w = await this.createBlobWriter(expected);
    try {
      if (typeof data === 'string' || Buffer.isBuffer(data)) await w.write(Buffer.from(data));
      else await w.writeAll(data);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withStoreLock(this.root, fn);
  }

  async readIndex(): Promise<ImageIndex> {
    try {
      const idx = JSON.parse(await readFile(this.indexPath, 'utf8')) as ImageIndex;
      assertSchema(validateImageIndex, idx, this.indexPath);
      return idx;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY_INDEX);
      if (e instanceof InvalidContentError) throw e;
      throw new InvalidContentError(`${this.indexPath}: damaged (${(e as Error).message}); the blobs are intact: restore it or move it aside to start an empty index`);
    }
  }

  /** Read-modify-write of index.json under the lock; `fn` mutates the index in place. */
  updateIndex(fn: (idx: ImageIndex) => void | Promise<void>): Promise<void> {
    return this.withLock(async () => {
      const idx = await this.readIndex();
      await fn(idx);
      await writeFileAtomic(this.indexPath, JSON.stringify(idx), { tmpDir: this.tmpDir });
    });
  }

  async listRefs(): Promise<RefEntry[]> {
    const idx = await this.readIndex();
    return idx.manifests.filter((d) => d.annotations?.[REF_ANNOTATION]).map((d) => ({ name: d.annotations![REF_ANNOTATION], descriptor: d }));
  }

  /** Points `name` at `descriptor`, replacing any entry with that name. */
  async setRef(name: string, descriptor: Descriptor): Promise<void> {
    await this.updateIndex((idx) => {
      idx.manifests = idx.manifests.filter((d) => d.annotations?.[REF_ANNOTATION] !== name);
      const { annotations, ...rest } = descriptor;
      idx.manifests.push({ ...rest, annotations: { ...annotations, [REF_ANNOTATION]: name } });
    });
  }

  async removeRef(name: string): Promise<boolean> {
    let found = false;
    await this.updateIndex((idx) => {
      const before = idx.manifests.length;
      idx.manifests = idx.manifests.filter((d) => d.annotations?.[REF_ANNOTATION] !== name);
      found = idx.manifests.length !== before;
    });
    return found;
  }

  /** The stored ref name `input` denotes (normalised like docker), if any. */
  async findRef(input: string): Promise<RefEntry | undefined> {
    const refs = await this.listRefs();
    const exact = refs.find((r) => r.name === input);
    if (exact) return exact;
    let normal: string;
    try {
      normal = normalizeReference(input);
    } catch {
      return undefined;
    }
    return refs.find((r) => r.name === normal);
  }

  /** Finds an image by ref, image id (config digest, or a unique prefix of it) or manifest digest. */
  async resolve(input: string, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
    const ref = await this.findRef(input);
    if (ref) return { name: ref.name, ...(await this.resolveDescriptor(ref.descriptor, platform, ref.name)) };
    const id = input.replace(/^sha256:/, '');
    if (/^[a-f0-9]{4,64}$/.test(id)) {
      const hits = new Map<string, ResolvedImage>();
      for (const r of await this.listRefs()) {
        const img = await this.resolveDescriptor(r.descriptor, platform, r.name).catch(() => undefined);
        if (img && (digestHex(img.configDescriptor.digest).startsWith(id) || digestHex(img.manifestDescriptor.digest) === id || digestHex(r.descriptor.digest) === id)) {
          if (!hits.has(img.manifestDescriptor.digest)) hits.set(img.manifestDescriptor.digest, { name: r.name, ...img });
        }
      }
      if (hits.size === 1) return [...hits.values()][0];
      if (hits.size > 1) throw new InvalidContentError(`image id prefix "${input}" is ambiguous`);
    }
    throw new ImageNotFoundError(input);
  }

  /** Reads and validates a manifest (narrowing an index to `platform`) and its config. */
  async resolveDescriptor(descriptor: Descriptor, platform: Platform = hostPlatform(), what = descriptor.digest): Promise<Omit<ResolvedImage, 'name'>> {
    let manifestDescriptor = descriptor;
    if (isIndexType(descriptor.mediaType)) {
      const index = await this.readJSON<ImageIndex>(descriptor.digest);
      assertSchema(validateImageIndex, index, `index ${descriptor.digest}`);
      manifestDescriptor = selectManifest(index.manifests.filter((d) => isManifestType(d.mediaType)), platform, what);
    }
    if (!isManifestType(manifestDescriptor.mediaType)) {
      throw new InvalidContentError(`${what}: unsupported manifest media type ${manifestDescriptor.mediaType}`);
    }
    const manifest = await this.readJSON<ImageManifest>(manifestDescriptor.digest);
    assertSchema(validateImageManifest, manifest, `manifest ${manifestDescriptor.digest}`);
    const config = await this.readJSON<ImageConfig>(manifest.config.digest);
    assertSchema(validateImageConfig, config, `config ${manifest.config.digest}`);
    return { descriptor, manifestDescriptor, manifest, configDescriptor: manifest.config, config, layers: manifest.layers };
  }

  /** A lease protecting `digests`, and every blob written from now on, from gc until released. */
  async lease(digests: string[] = []): Promise<Lease> {
    const lease = await Lease.create(this.leaseDir, this.tmpDir, (fn) => this.withLock(fn));
    if (digests.length) await lease.add(digests);
    return lease;
  }

  /** Runs fn with a lease held, released afterwards. */
  async withLease<T>(fn: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = await this.lease();
    try {
      return await fn(lease);
    } finally {
      await lease.release();
    }
  }

  /** Every digest reachable from index.json. */
  private async referencedDigests(): Promise<Set<string>> {
    const live = new Set<string>();
    const visit = async (d: Descriptor): Promise<void> => {
      if (live.has(d.digest)) return;
      live.add(d.digest);
      if (!isIndexType(d.mediaType) && !isManifestType(d.mediaType)) return;
      const doc = await this.readJSON<ImageIndex & ImageManifest>(d.digest).catch(() => undefined);
      if (!doc) return;
      for (const child of [...(doc.manifests ?? []), ...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) await visit(child);
    };
    for (const d of (await this.readIndex()).manifests) await visit(d);
    return live;
  }

  /** Removes blobs nothing references. Returns what was removed. */
  gc(): Promise<{ removed: string[]; bytes: number }> {
    return this.withLock(async () => {
      const referenced = await this.referencedDigests();
      const leased = await liveLeases(this.leaseDir);
      const removed: string[] = [];
      let bytes = 0;
      for (const hex of await readdir(this.blobDir)) {
        const digest = `sha256:${hex}`;
        if (referenced.has(digest) || leased.digests.has(digest)) continue;
        const path = join(this.blobDir, hex);
        const st = await stat(path);
        if (st.mtimeMs >= leased.since) continue;
        bytes += st.size;
        await unlink(path);
        removed.push(digest);
      }
      return { removed, bytes };
    });
  }

  /** Re-hashes every blob; returns the digests whose file content does not match its name. */
  async verify(): Promise<string[]> {
    const bad: string[] = [];
    for (const hex of await readdir(this.blobDir)) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(join(this.blobDir, hex))) hash.update(chunk as Buffer);
      if (hash.digest('hex') !== hex) bad.push(`sha256:${hex}`);
    }
    return bad;
  }
}
