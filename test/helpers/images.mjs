// Test fixture: small images built by umoci (not by rocker) from
// busybox-static, and pushed by skopeo. Reusable by any test that needs images
// in an OCI layout or in a registry.
//
//   const layout = await buildTestLayout(dir[, { noiseBytes }])
//     -> { dir, refs: { amd64, arm64, multi } }: a 3-layer busybox image per
//        platform (linux/amd64, linux/arm64/v8) and 'multi', an OCI index of both
//   await pushImage(layout, 'amd64', registry.host, 'busybox:latest', { format: 'v2s2', creds })
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

const run = promisify(execFile);

async function writeBlob(dir, bytes) {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

async function manifestOf(dir, ref) {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  return index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === ref);
}

/**
 * Builds the test images into an OCI layout at `<parent>/layout` (noiseBytes: size of
 * each random layer; noiseLayers: how many, /var/noise.bin then /var/noise-<i>.bin).
 */
export async function buildTestLayout(parent, { noiseBytes = 512 * 1024, noiseLayers = 1 } = {}) {
  const dir = join(parent, 'layout');
  const files = join(parent, 'files');
  await mkdir(files, { recursive: true });
  await writeFile(join(files, 'hello.txt'), 'hello from rocker tests\n');
  await run('umoci', ['init', '--layout', dir]);
  await run('umoci', ['new', '--image', `${dir}:amd64`]);
  await run('umoci', ['insert', '--image', `${dir}:amd64`, '/bin/busybox', '/bin/busybox']);
  await run('umoci', ['insert', '--image', `${dir}:amd64`, join(files, 'hello.txt'), '/etc/hello.txt']);
  for (let i = 0; i < noiseLayers; i++) {
    const name = i === 0 ? 'noise.bin' : `noise-${i}.bin`;
    // Incompressible, so this layer is big enough to be cut or corrupted mid-way.
    await writeFile(join(files, name), randomBytes(noiseBytes));
    await run('umoci', ['insert', '--image', `${dir}:amd64`, join(files, name), `/var/${name}`]);
    await rm(join(files, name));
  }
  await run('umoci', ['config', '--image', `${dir}:amd64`, '--config.cmd', '/bin/busybox', '--config.cmd', 'sh', '--os', 'linux', '--architecture', 'amd64']);
  await run('umoci', ['config', '--image', `${dir}:amd64`, '--architecture', 'arm64', '--tag', 'arm64']);
  // umoci cannot set a variant or build an index: write the index by hand.
  const entries = [];
  for (const [ref, platform] of [['amd64', { os: 'linux', architecture: 'amd64' }], ['arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }]]) {
    const { mediaType, digest, size } = await manifestOf(dir, ref);
    entries.push({ mediaType, digest, size, platform });
  }
  const indexDoc = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries };
  const blob = await writeBlob(dir, Buffer.from(JSON.stringify(indexDoc)));
  const top = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  top.manifests.push({ mediaType: indexDoc.mediaType, ...blob, annotations: { 'org.opencontainers.image.ref.name': 'multi' } });
  await writeFile(join(dir, 'index.json'), JSON.stringify(top));
  return { dir, refs: { amd64: 'amd64', arm64: 'arm64', multi: 'multi' }, manifests: { amd64: entries[0], arm64: entries[1], index: blob } };
}

/**
 * skopeo copy of a layout ref to registry `host` as `repoTag`.
 * format: 'oci' (as built) or 'v2s2' (Docker schema 2); an index is copied whole.
 */
export async function pushImage(layout, ref, host, repoTag, { format = 'oci', creds } = {}) {
  const args = ['copy', '--quiet', '--dest-tls-verify=false', '--src-tls-verify=false'];
  if (format === 'v2s2') args.push('--format', 'v2s2');
  if (ref === layout.refs.multi) args.push('--all');
  if (creds) args.push('--dest-creds', creds);
  args.push(`oci:${layout.dir}:${ref}`, `docker://${host}/${repoTag}`);
  await run('skopeo', args);
}

/** skopeo inspect --raw of a ref in an oci: layout (proves the layout is readable). */
export async function skopeoInspect(location, raw = false) {
  const { stdout } = await run('skopeo', ['inspect', ...(raw ? ['--raw'] : []), location]);
  return JSON.parse(stdout);
}
