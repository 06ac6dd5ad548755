// commit turns a bundle's changes into a layer; push uploads the image; a
// fresh skopeo pull of it unpacks (umoci) to exactly the changed tree.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { FsOps } from '../../dist/imagetool/fsops/client.js';
import { Store } from '../../dist/imagetool/store/index.js';
import { buildAppImage } from './busybox-image.mjs';
import { describeTree, diffTrees } from './tree.mjs';
import { mountsUnder, rockerImageOk } from './cli.mjs';

let dir;
let store;
let registry;
let committed;
let changedTree;
let newLayerSize;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-commit-'));
  store = join(dir, 'store');
  registry = await startRegistry();
  await pushImage(buildAppImage(dir), 'app', registry.host, 'rocker/app:1');
  await rockerImageOk(store, 'pull', '--quiet', `${registry.host}/rocker/app:1`);
});

after(async () => {
  await registry?.stop();
  for (const m of mountsUnder(dir)) execFileSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
});

/** Changes of every kind a container makes, through the bundle's merged rootfs. */
async function changeRootfs(r) {
  writeFileSync(join(r, 'added.txt'), 'added\n');
  chownSync(join(r, 'added.txt'), 1000, 1001);
  linkSync(join(r, 'added.txt'), join(r, 'added-link'));
  writeFileSync(join(r, 'bin/setuid-tool'), '#!/bin/sh\n');
  chmodSync(join(r, 'bin/setuid-tool'), 0o4755);
  appendFileSync(join(r, 'etc/passwd'), 'extra:x:2000:2000::/:/bin/sh\n');
  unlinkSync(join(r, 'etc/group'));
  unlinkSync(join(r, 'bin/ls'));
  // Replacing a directory makes it opaque in the upper dir.
  rmSync(join(r, 'home/web'), { recursive: true });
  mkdirSync(join(r, 'home/web'));
  writeFileSync(join(r, 'home/web/fresh'), 'fresh\n');
  execFileSync('mkfifo', [join(r, 'home/web/pipe')]);
  const fsops = new FsOps();
  await fsops.setXattr(join(r, 'added.txt'), 'user.rocker', Buffer.from('committed'));
  await fsops.close();
  // A write under the image's volume stays out of the image.
  writeFileSync(join(r, 'srv/data/runtime-only'), 'x');
}

test('commit stores the bundle changes as a new layer', async () => {
  const bundle = join(dir, 'work');
  await rockerImageOk(store, 'bundle', `${registry.host}/rocker/app:1`, bundle);
  try {
    await changeRootfs(join(bundle, 'rootfs'));
    changedTree = await describeTree(join(bundle, 'rootfs'));
    changedTree.delete('srv/data/runtime-only');
    committed = `${registry.host}/rocker/app:committed`;
    const { stdout } = await rockerImageOk(store, 'commit', bundle, committed);
    assert.match(stdout, /^sha256:[0-9a-f]{64}\n$/);
  } finally {
    await rockerImageOk(store, 'unbundle', bundle);
  }
  const base = await (await Store.open(store)).resolve(`${registry.host}/rocker/app:1`);
  const image = await (await Store.open(store)).resolve(committed);
  assert.deepEqual(image.layers.slice(0, -1), base.layers);
  assert.equal(image.config.rootfs.diff_ids.length, base.config.rootfs.diff_ids.length + 1);
  assert.equal(image.config.history.at(-1).created_by, 'rocker-image commit');
  newLayerSize = image.layers.at(-1).size;
  assert.deepEqual(image.config.config, base.config.config);
  assert.equal(image.manifest.annotations['org.opencontainers.image.base.digest'], base.manifestDescriptor.digest);
  for (const flat of [true, false]) {
    const check = join(dir, `check-${flat}`);
    await rockerImageOk(store, 'bundle', ...(flat ? ['--flat'] : []), committed, check);
    try {
      assert.deepEqual(diffTrees(changedTree, await describeTree(join(check, 'rootfs'))), []);
    } finally {
      await rockerImageOk(store, 'unbundle', check);
    }
  }
});

const outcomes = (stderr) => stderr.trim().split('\n').map((l) => l.split(': ')[1]);

test('push uploads new blobs, mounts known ones, and skopeo pulls the same image back', async () => {
  assert.ok(committed, 'needs the committed image');
  assert.ok(newLayerSize > 2 * 256, 'the new layer takes several chunks');
  const first = await rockerImageOk(store, 'push', '--chunk-size', '256', committed);
  // The base layer is in rocker/app already (it was pulled from there); the rest is uploaded in chunks.
  assert.deepEqual(outcomes(first.stderr), ['exists', 'uploaded', 'uploaded']);
  const again = await rockerImageOk(store, 'push', committed);
  assert.deepEqual(outcomes(again.stderr), ['exists', 'exists', 'exists']);
  const other = await rockerImageOk(store, 'push', committed, `${registry.host}/elsewhere/copy:2`);
  assert.deepEqual(outcomes(other.stderr), ['mounted', 'mounted', 'mounted']);

  const digest = first.stdout.trim().split('@')[1];
  for (const ref of [committed, `${registry.host}/elsewhere/copy:2`]) {
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest, `${ref} serves the pushed manifest`);
  }
  const oci = join(dir, 'skopeo-copy');
  execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${committed}`, `oci:${oci}:pulled`]);
  execFileSync('umoci', ['unpack', '--image', `${oci}:pulled`, join(dir, 'umoci-bundle')]);
  assert.deepEqual(diffTrees(changedTree, await describeTree(join(dir, 'umoci-bundle', 'rootfs'))), []);
});
