// Tar archives of images: `oci-archive:` (a tarred OCI layout) and
// `docker-archive:` (the `docker save` format: manifest.json, <config>.json and
// uncompressed layer tars named by diff id). Archives are unpacked into a temp
// dir inside the store (only regular files and dirs, no absolute or `..`
// paths) and written through a temp file renamed into place.
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { join, resolve, sep } from 'node:path';
import * as tar from 'tar';
import { validateImageConfig } from '../../../schemas/validators.js';
import { assertSchema, type ResolvedImage, type Store } from '../index.js';
import { InvalidContentError, ImageNotFoundError, DigestMismatchError } from '../errors.js';
import { MT, type Descriptor, type ImageConfig, type ImageManifest, type Platform } from '../mediatypes.js';
import { tempPath } from '../fsutil.js';
import { normalizeReference } from '../../reference/index.js';
import { exportOciLayout, importOciLayout } from './oci-layout.js';

const LAYOUT_ENTRIES = ['oci-layout', 'index.json', 'blobs'];

/** Runs fn with a fresh scratch dir inside the store, removed afterwards. */
async function withScratch<T>(store: Store, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempPath(store.tmpDir);
  await mkdir(dir);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function unpack(file: string, dir: string): Promise<void> {
  try {
    await tar.x({ file, cwd: dir, strict: true, noChmod: true, filter: (_p, e) => 'type' in e && (e.type === 'File' || e.type === 'Directory') });
  } catch (e) {
    throw new InvalidContentError(`${file}: cannot unpack archive: ${(e as Error).message}`);
  }
}

/** Writes the entries of `dir` into the tar `file` atomically. */
async function pack(dir: string, entries: string[], file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await tar.c({ file: tmp, cwd: dir, portable: true }, entries);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function importOciArchive(store: Store, file: string, ref: string | undefined, name: string | undefined, platform: Platform): Promise<string> {
  return withScratch(store, async (dir) => {
    await unpack(file, dir);
    return importOciLayout(store, dir, ref, name, platform);
  });
}

export function exportOciArchive(store: Store, img: ResolvedImage, file: string, ref: string): Promise<void> {
  return withScratch(store, async (dir) => {
    await exportOciLayout(store, img, dir, ref);
    await pack(dir, LAYOUT_ENTRIES, file);
  });
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** A path from manifest.json, refused if it leaves the unpacked archive. */
function inside(dir: string, rel: string): string {
  const p = resolve(dir, rel);
  if (!p.startsWith(resolve(dir) + sep)) throw new InvalidContentError(`docker archive: path "${rel}" escapes the archive`);
  return p;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = createReadStream(path, { start: 0, end: 1 });
  const head: Buffer[] = [];
  for await (const c of fh) head.push(c as Buffer);
  const b = Buffer.concat(head);
  return b.length === 2 && b[0] === 0x1f && b[1] === 0x8b;
}

export function importDockerArchive(store: Store, file: string, ref: string | undefined, name: string | undefined): Promise<string> {
  // The lease keeps the blobs written here from a concurrent gc until the ref exists.
  return store.withLease(() => withScratch(store, async (dir) => {
    await unpack(file, dir);
    let entries: DockerArchiveEntry[];
    try {
      entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
      if (!Array.isArray(entries)) throw new Error('not a list');
    } catch (e) {
      throw new InvalidContentError(`${file}: not a docker archive (manifest.json: ${(e as Error).message})`);
    }
    const entry = ref ? entries.find((e) => e.RepoTags?.includes(ref)) : entries.length === 1 ? entries[0] : undefined;
    if (!entry) throw ref ? new ImageNotFoundError(`${ref} (in ${file})`) : new InvalidContentError(`${file}: holds ${entries.length} images; name one as docker-archive:${file}:<name:tag>`);
    const tag = name ?? ref ?? entry.RepoTags?.[0];
    if (!tag) throw new InvalidContentError(`${file}: the image has no RepoTags; give a name to import it under`);
    // RepoTags are docker's short names ("busybox:latest"); the store keeps full ones.
    const target = normalizeReference(tag);
    const configBytes = await readFile(inside(dir, entry.Config));
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    assertSchema(validateImageConfig, config, `${file}: ${entry.Config}`);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw new InvalidContentError(`${file}: ${entry.Layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff ids`);
    }
    const layers: Descriptor[] = [];
    for (const [i, rel] of entry.Layers.entries()) {
      const path = inside(dir, rel);
      const gzip = await isGzip(path);
      const blob = await store.writeBlob(createReadStream(path));
      // An uncompressed layer's digest is its diff id; anything else means a damaged archive.
      if (!gzip && blob.digest !== config.rootfs.diff_ids[i]) throw new DigestMismatchError(config.rootfs.diff_ids[i], blob.digest, `layer ${rel}`);
      layers.push({ mediaType: gzip ? MT.ociLayerGzip : MT.ociLayerTar, ...blob });
    }
    const configBlob = await store.writeBlob(configBytes);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...configBlob }, layers };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const stored = await store.writeBlob(bytes);
    await store.setRef(target, { mediaType: MT.ociManifest, ...stored });
    return target;
  }));
}

/** Copies a layer as an uncompressed tar (gunzipping if needed) and checks it against its diff id. */
async function writeUncompressedLayer(store: Store, layer: Descriptor, diffId: string, dest: string): Promise<void> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const stages: NodeJS.ReadWriteStream[] = layer.mediaType.endsWith('gzip') ? [createGunzip(), tap] : [tap];
  if (!layer.mediaType.endsWith('gzip') && !layer.mediaType.endsWith('.tar')) {
    throw new InvalidContentError(`layer ${layer.digest}: ${layer.mediaType} cannot go into a docker archive`);
  }
  await pipeline(store.blobStream(layer.digest), ...(stages as [NodeJS.ReadWriteStream]), createWriteStream(dest));
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) throw new DigestMismatchError(diffId, actual, `uncompressed layer ${layer.digest}`);
}

/** docker's short form for Docker Hub names: docker.io/library/x:t -> x:t. */
function familiar(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

export function exportDockerArchive(store: Store, img: ResolvedImage, file: string, ref: string | undefined): Promise<void> {
  return withScratch(store, async (dir) => {
    const configName = `${img.configDescriptor.digest.slice(7)}.json`;
    await link(store.blobPath(img.configDescriptor.digest), join(dir, configName));
    const diffIds = img.config.rootfs.diff_ids;
    if (diffIds.length !== img.layers.length) throw new InvalidContentError(`image ${img.name}: config lists ${diffIds.length} diff ids for ${img.layers.length} layers`);
    const layerNames: string[] = [];
    for (const [i, layer] of img.layers.entries()) {
      const layerName = `${diffIds[i].slice(7)}.tar`;
      if (!layerNames.includes(layerName)) await writeUncompressedLayer(store, layer, diffIds[i], join(dir, layerName));
      layerNames.push(layerName);
    }
    const tag = ref ?? img.name;
    const manifest: DockerArchiveEntry[] = [{ Config: configName, RepoTags: tag && !tag.includes('@') ? [familiar(tag)] : [], Layers: layerNames }];
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await pack(dir, ['manifest.json', configName, ...new Set(layerNames)], file);
  });
}

