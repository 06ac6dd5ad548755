// import/export between the store and oci: dirs, oci-archive: and
// docker-archive: tars, checked against skopeo and umoci.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { buildTestLayout, skopeoInspect } from '../helpers/images.mjs';
import { checkStore } from '../helpers/store-check.mjs';
import { rockerImage } from '../helpers/rocker-image.mjs';

const run = promisify(execFile);
let work, layout;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rocker-transfer-'));
  layout = await buildTestLayout(work);
});

after(() => rm(work, { recursive: true, force: true }));

async function ok(args, root) {
  const r = await rockerImage(args, { root });
  assert.equal(r.code, 0, r.stderr);
  return r;
}

test('oci: import (with platform choice from an index) and export', async () => {
  const root = join(work, 'oci-root');
  const imported = await ok(['import', `oci:${layout.dir}:amd64`, 'example.com/bb:1'], root);
  assert.equal(imported.stdout.trim(), 'example.com/bb:1');
  await ok(['--platform', 'linux/arm64', 'import', `oci:${layout.dir}:multi`, 'example.com/bb:arm'], root);
  assert.deepEqual(await checkStore(root), []);
  assert.equal((await skopeoInspect(`oci:${root}:example.com/bb:1`)).Digest, layout.manifests.amd64.digest);
  assert.equal((await skopeoInspect(`oci:${root}:example.com/bb:arm`)).Digest, layout.manifests.arm64.digest);
  // Without a target name the source's ref name is kept.
  await ok(['import', `oci:${layout.dir}:amd64`], root);
  assert.equal((await skopeoInspect(`oci:${root}:amd64`)).Architecture, 'amd64');

  const out = join(work, 'exported');
  await ok(['export', 'example.com/bb:arm', `oci:${out}:arm`], root);
  await ok(['export', 'example.com/bb:1', `oci:${out}:one`], root);
  assert.deepEqual((await readdir(out)).sort(), ['blobs', 'index.json', 'oci-layout']);
  assert.equal((await skopeoInspect(`oci:${out}:arm`)).Architecture, 'arm64');
  const bundle = join(work, 'bundle');
  await run('umoci', ['unpack', '--image', `${out}:one`, bundle]);
  await rm(bundle, { recursive: true, force: true });

  const missing = await rockerImage(['import', `oci:${layout.dir}:nope`], { root });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /image not known: nope/);
  const ambiguous = await rockerImage(['import', `oci:${layout.dir}`], { root });
  assert.match(ambiguous.stderr, /holds 3 images .*name one as oci:/);
  const notLayout = await rockerImage(['import', `oci:${work}/nothing`, 'x'], { root });
  assert.match(notLayout.stderr, /not an OCI layout/);
});

test('oci-archive: export read by skopeo, and imported back', async () => {
  const root = join(work, 'ocia-root');
  await ok(['import', `oci:${layout.dir}:amd64`, 'bb'], root);
  const file = join(work, 'bb-oci.tar');
  await ok(['export', 'bb', `oci-archive:${file}:bb:latest`], root);
  assert.equal((await skopeoInspect(`oci-archive:${file}:bb:latest`)).Digest, layout.manifests.amd64.digest);
  const root2 = join(work, 'ocia-root2');
  await ok(['import', `oci-archive:${file}:bb:latest`, 'again'], root2);
  assert.equal((await skopeoInspect(`oci:${root2}:docker.io/library/again:latest`)).Digest, layout.manifests.amd64.digest);
  assert.deepEqual(await checkStore(root2), []);
});

test('docker-archive: skopeo-made archive imported; exported archive read by skopeo', async () => {
  const root = join(work, 'da-root');
  const fromSkopeo = join(work, 'skopeo-docker.tar');
  await run('skopeo', ['copy', '--quiet', `oci:${layout.dir}:amd64`, `docker-archive:${fromSkopeo}:busybox:latest`]);
  const imported = await ok(['import', `docker-archive:${fromSkopeo}`], root);
  assert.equal(imported.stdout.trim(), 'docker.io/library/busybox:latest');
  assert.deepEqual(await checkStore(root), []);
  const inspect = JSON.parse((await ok(['inspect', 'busybox:latest'], root)).stdout);
  assert.deepEqual(inspect.Manifest.layers.map((l) => l.digest), inspect.Config.rootfs.diff_ids);

  // Export from a store holding gzip layers (as pulled) and let skopeo read and copy it.
  await ok(['import', `oci:${layout.dir}:amd64`, 'local/bb:v1'], root);
  const file = join(work, 'rocker-docker.tar');
  await ok(['export', 'local/bb:v1', `docker-archive:${file}`], root);
  const { stdout } = await run('tar', ['-xOf', file, 'manifest.json']);
  assert.deepEqual(JSON.parse(stdout)[0].RepoTags, ['local/bb:v1']);
  const info = await skopeoInspect(`docker-archive:${file}`);
  assert.equal(info.Layers.length, 3);
  await run('skopeo', ['copy', '--quiet', `docker-archive:${file}`, `oci:${join(work, 'from-rocker')}:bb`]);
  const back = join(work, 'da-root2');
  await ok(['import', `docker-archive:${file}:local/bb:v1`, 'roundtrip'], back);
  assert.deepEqual(await checkStore(back), []);
});

test('hostile archives are refused and leave nothing behind', async () => {
  const root = join(work, 'evil-root');
  const src = join(work, 'evil');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'cfg.json'), JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } }));
  await writeFile(join(src, 'manifest.json'), JSON.stringify([{ Config: 'cfg.json', RepoTags: ['evil:1'], Layers: ['../../../../etc/passwd'] }]));
  const file = join(work, 'evil.tar');
  await tar.c({ file, cwd: src }, ['manifest.json', 'cfg.json']);
  const r = await rockerImage(['import', `docker-archive:${file}`], { root });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /escapes the archive/);
  // Entries that climb out of the unpack dir.
  await writeFile(join(work, 'outside.txt'), 'x');
  const climbing = join(work, 'climb.tar');
  await run('tar', ['-cf', climbing, '-P', '-C', src, '../outside.txt']);
  const r1 = await rockerImage(['import', `oci-archive:${climbing}`, 'x'], { root });
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /cannot unpack archive: .*path contains '\.\.'/);
  // A layer that does not match its diff id.
  await writeFile(join(src, 'layer.tar'), 'not the layer the config names');
  await writeFile(join(src, 'manifest.json'), JSON.stringify([{ Config: 'cfg.json', RepoTags: ['evil:1'], Layers: ['layer.tar'] }]));
  await tar.c({ file, cwd: src }, ['manifest.json', 'cfg.json', 'layer.tar']);
  const r2 = await rockerImage(['import', `docker-archive:${file}`], { root });
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /layer layer\.tar digest mismatch/);
  assert.deepEqual(await checkStore(root), []);
  assert.deepEqual((await rockerImage(['images', '--format', 'json'], { root })).stdout.trim(), '[]');
});
