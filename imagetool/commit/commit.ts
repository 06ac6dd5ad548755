// rocker-image commit: a bundle's upper dir becomes a new layer on top of the
// image it was made from; the new config, manifest and ref go into the store.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { RockerError } from '../../runtime/errors.js';
import { validateImageConfig, validateImageManifest } from '../../schemas/validators.js';
import { bundlePaths, readBundleRecord } from '../bundle/record.js';
import { runConfigOf } from '../bundle/image-config.js';
import { FsOps } from '../fsops/client.js';
import { normalizeReference } from '../reference/index.js';
import { assertSchema, MT, Store, type Descriptor, type ImageConfig, type ImageManifest } from '../store/index.js';
import { upperDiffTar } from './upper-diff.js';

export interface CommitOptions {
  /** history[].comment of the new layer. */
  message?: string;
  author?: string;
}

export interface CommitResult {
  ref: string;
  manifest: Descriptor;
  layer: Descriptor;
  diffId: string;
}

/** Writes the layer: tar -> gzip -> store, hashing the tar on the way for its diff_id. */
async function storeLayer(store: Store, tar: AsyncIterable<Buffer>): Promise<{ layer: Descriptor; diffId: string }> {
  const hash = createHash('sha256');
  const hashed = Readable.from(
    (async function* () {
      for await (const chunk of tar) {
        hash.update(chunk);
        yield chunk;
      }
    })(),
  );
  const gz = hashed.pipe(createGzip());
  hashed.on('error', (err) => gz.destroy(err));
  const blob = await store.writeBlob(gz);
  return { layer: { mediaType: MT.ociLayerGzip, digest: blob.digest, size: blob.size }, diffId: `sha256:${hash.digest('hex')}` };
}

async function storeJSON(store: Store, mediaType: string, doc: unknown): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const blob = await store.writeBlob(bytes);
  return { mediaType, digest: blob.digest, size: blob.size };
}

export async function commitBundle(dir: string, refInput: string, o: CommitOptions = {}): Promise<CommitResult> {
  const record = await readBundleRecord(dir);
  if (record.mode !== 'overlay') throw new RockerError(`commit ${dir}: a --flat bundle has no upper dir to commit; make the bundle without --flat`);
  const ref = normalizeReference(refInput);
  const store = await Store.open(record.store);
  const base = await store.resolveDescriptor({ mediaType: MT.ociManifest, digest: record.manifest, size: 0 });
  const now = new Date().toISOString();

  const fsops = new FsOps();
  let layer: Descriptor;
  let diffId: string;
  try {
    const volumes = Object.keys(runConfigOf(base.config).Volumes ?? {});
    ({ layer, diffId } = await storeLayer(store, upperDiffTar(bundlePaths(dir).upper, fsops, volumes)));
  } finally {
    await fsops.close();
  }

  const config: ImageConfig = {
    ...base.config,
    created: now,
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, diffId] },
    history: [
      ...(base.config.history ?? []),
      { created: now, created_by: 'rocker-image commit', ...(o.message ? { comment: o.message } : {}), ...(o.author ? { author: o.author } : {}) },
    ],
  };
  if (o.author) (config as ImageConfig & { author?: string }).author = o.author;
  assertSchema(validateImageConfig, config, 'new image config');
  const configDesc = await storeJSON(store, MT.ociConfig, config);

  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: configDesc,
    layers: [...base.layers, layer],
    // Where the lower layers came from: push mounts them from there.
    annotations: { 'org.opencontainers.image.base.name': record.image, 'org.opencontainers.image.base.digest': record.manifest },
  };
  assertSchema(validateImageManifest, manifest, 'new image manifest');
  const manifestDesc = await storeJSON(store, MT.ociManifest, manifest);
  await store.setRef(ref, manifestDesc);
  return { ref, manifest: manifestDesc, layer, diffId };
}
