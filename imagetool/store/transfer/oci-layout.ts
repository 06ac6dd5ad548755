// Copying images between the store and another OCI image layout directory.
// Every blob is verified against its digest while copied; the ref is written
// last, so a failed copy leaves nothing referenced.
import { readFile, rmdir } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { validateImageIndex, validateImageManifest } from '../../../schemas/validators.js';
import { assertSchema, REF_ANNOTATION, Store, type Lease, type ResolvedImage } from '../index.js';
import { removeStoreLockFile } from '../lock.js';
import { ImageNotFoundError, InvalidContentError } from '../errors.js';
import { dockerManifestToOci, isIndexType, isManifestType, MT, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from '../mediatypes.js';
import { configPlatform, selectManifest } from '../platform.js';
import { digestHex, sha256Digest } from '../blobs.js';

/** Path of a blob inside a layout dir; the digest is checked so it cannot name anything else. */
export function layoutBlobPath(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digestHex(digest));
}

async function readVerified(dir: string, d: Descriptor): Promise<Buffer> {
  const bytes = await readFile(layoutBlobPath(dir, d.digest)).catch((e: NodeJS.ErrnoException) => {
    throw new InvalidContentError(`${dir}: blob ${d.digest} missing (${e.code})`);
  });
  const actual = sha256Digest(bytes);
  if (actual !== d.digest) throw new InvalidContentError(`${dir}: blob ${d.digest} is corrupt (hashes to ${actual})`);
  return bytes;
}

/** The index.json entry for `ref` (or the only entry when no ref is given). */
async function pickEntry(dir: string, ref: string | undefined): Promise<Descriptor> {
  let index: ImageIndex;
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  } catch (e) {
    throw new InvalidContentError(`${dir}: not an OCI layout (index.json: ${(e as Error).message})`);
  }
  assertSchema(validateImageIndex, index, join(dir, 'index.json'));
  if (ref) {
    const hit = index.manifests.find((d) => d.annotations?.[REF_ANNOTATION] === ref);
    if (!hit) throw new ImageNotFoundError(`${ref} (in ${dir})`);
    return hit;
  }
  if (index.manifests.length === 1) return index.manifests[0];
  const names = index.manifests.map((d) => d.annotations?.[REF_ANNOTATION] ?? d.digest).join(', ');
  throw new InvalidContentError(`${dir}: holds ${index.manifests.length} images (${names}); name one as oci:${dir}:<ref>`);
}

/**
 * Imports one image from the layout at `dir` under `name` (default: its ref in
 * the source). An index is narrowed to `platform`. Returns the stored name.
 */
export function importOciLayout(store: Store, dir: string, ref: string | undefined, name: string | undefined, platform: Platform): Promise<string> {
  return store.withLease((lease) => copyFromLayout(store, lease, dir, ref, name, platform));
}

async function copyFromLayout(store: Store, lease: Lease, dir: string, ref: string | undefined, name: string | undefined, platform: Platform): Promise<string> {
  const entry = await pickEntry(dir, ref);
  const target = name ?? entry.annotations?.[REF_ANNOTATION];
  if (!target) throw new InvalidContentError(`${dir}: the image has no ref name; give one to import it under`);
  let md = entry;
  if (isIndexType(entry.mediaType)) {
    const index = JSON.parse((await readVerified(dir, entry)).toString('utf8')) as ImageIndex;
    assertSchema(validateImageIndex, index, `${dir}: index ${entry.digest}`);
    md = selectManifest(index.manifests.filter((d) => isManifestType(d.mediaType)), platform, target);
  }
  if (!isManifestType(md.mediaType)) throw new InvalidContentError(`${dir}: ${md.digest} has unsupported media type ${md.mediaType}`);
  const source = JSON.parse((await readVerified(dir, md)).toString('utf8')) as ImageManifest;
  assertSchema(validateImageManifest, source, `${dir}: manifest ${md.digest}`);
  const manifest = md.mediaType === MT.dockerManifest ? dockerManifestToOci(source) : source;
  await lease.add([manifest.config, ...manifest.layers].map((b) => b.digest));
  for (const blob of [manifest.config, ...manifest.layers]) {
    if (await store.hasBlob(blob.digest, blob.size)) continue;
    await store.writeBlob(createReadStream(layoutBlobPath(dir, blob.digest)), { digest: blob.digest, size: blob.size });
  }
  const bytes = md.mediaType === MT.dockerManifest ? Buffer.from(JSON.stringify(manifest)) : await readVerified(dir, md);
  const stored = await store.writeBlob(bytes, { digest: sha256Digest(bytes) });
  await store.setRef(target, { mediaType: MT.ociManifest, ...stored, ...(md.platform ? { platform: md.platform } : {}) });
  return target;
}

/** Writes `img` into the layout at `dir` (created if needed) under `ref`. */
export async function exportOciLayout(store: Store, img: ResolvedImage, dir: string, ref: string): Promise<void> {
  const dest = await Store.open(dir);
  for (const blob of [img.configDescriptor, ...img.layers, img.manifestDescriptor]) {
    if (!(await dest.hasBlob(blob.digest, blob.size))) await dest.writeBlob(store.blobStream(blob.digest), { digest: blob.digest, size: blob.size });
  }
  const { mediaType, digest, size } = img.manifestDescriptor;
  await dest.setRef(ref, { mediaType, digest, size, platform: configPlatform(img.config) });
  // The store's own scratch dirs and lock do not belong in an exported layout.
  await rmdir(dest.tmpDir).catch(() => {});
  await rmdir(dest.leaseDir).catch(() => {});
  await removeStoreLockFile(dir);
}
