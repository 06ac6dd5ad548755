// Unpacking must give a container exactly what `umoci unpack` of the same
// image gives: through the overlay of snapshots of a bundle, and --flat.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMultiLayerImage, makeTar, recompressImage } from './fixture-image.mjs';
import { describeTree, diffTrees } from './tree.mjs';
import { mountsUnder, rockerImage, rockerImageOk } from './cli.mjs';

let dir;
let layout;
let expected;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-unpack-'));
  ({ layout } = await buildMultiLayerImage(dir));
  execFileSync('umoci', ['unpack', '--image', `${layout}:multi`, join(dir, 'umoci')]);
  expected = await describeTree(join(dir, 'umoci', 'rootfs'));
});

after(() => {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

test('the fixture covers every kind of entry', () => {
  const types = new Set([...expected.values()].map((e) => e.type));
  assert.deepEqual([...types].sort(), ['chardev', 'dir', 'fifo', 'file', 'symlink']);
  assert.equal(expected.get('bin/suid').mode, '4755');
  assert.equal(expected.get('bin/sgid').mode, '2711');
  assert.equal(expected.get('tmp').mode, '1777');
  assert.equal(expected.get('owned').owner, '1234:5678');
  assert.match(expected.get('caps').xattrs, /^security\.capability=/);
  assert.ok(!expected.has('data/old.txt') && !expected.has('gone') && !expected.has('opq/a') && !expected.has('data/new.txt'));
  assert.ok(expected.has('opq/c') && expected.has('lower-link'));
});

test('an overlay bundle rootfs shows what umoci unpack produces', async () => {
  const bundle = join(dir, 'overlay-bundle');
  await rockerImageOk(layout, 'bundle', 'multi', bundle);
  try {
    assert.deepEqual(diffTrees(expected, await describeTree(join(bundle, 'rootfs'))), []);
    // Every layer is its own snapshot, keyed by chain ID.
    assert.equal(readdirSync(join(layout, 'snapshots')).length, 3);
  } finally {
    await rockerImageOk(layout, 'unbundle', bundle);
  }
  assert.deepEqual(mountsUnder(bundle), []);
});

test('a --flat bundle rootfs is what umoci unpack produces', async () => {
  const bundle = join(dir, 'flat-bundle');
  await rockerImageOk(layout, 'bundle', '--flat', 'multi', bundle);
  assert.deepEqual(diffTrees(expected, await describeTree(join(bundle, 'rootfs'))), []);
  await rockerImageOk(layout, 'unbundle', bundle);
});

test('zstd and uncompressed layers unpack to the same tree', async () => {
  for (const compression of ['zstd', 'none']) {
    const store = join(dir, `store-${compression}`);
    const tag = recompressImage(layout, 'multi', compression, store);
    for (const flat of [false, true]) {
      const bundle = join(dir, `${compression}-${flat ? 'flat' : 'overlay'}`);
      await rockerImageOk(store, 'bundle', ...(flat ? ['--flat'] : []), tag, bundle);
      try {
        assert.deepEqual(diffTrees(expected, await describeTree(join(bundle, 'rootfs'))), [], `${compression} ${flat ? 'flat' : 'overlay'}`);
      } finally {
        await rockerImageOk(store, 'unbundle', bundle);
      }
    }
  }
});

test('a layer ending right after its last entry (umoci insert) unpacks; one cut inside data is refused', async () => {
  const store = join(dir, 'insert-store');
  execFileSync('umoci', ['init', '--layout', store]);
  execFileSync('umoci', ['new', '--image', `${store}:ins`]);
  execFileSync('umoci', ['insert', '--image', `${store}:ins`, '/bin/busybox', '/bin/busybox']);
  execFileSync('umoci', ['config', '--image', `${store}:ins`, '--config.cmd', '/bin/busybox']);
  const bundle = join(dir, 'insert-bundle');
  await rockerImageOk(store, 'bundle', '--flat', 'ins', bundle);
  assert.deepEqual(readFileSync(join(bundle, 'rootfs/bin/busybox')), readFileSync('/bin/busybox'));
  await rockerImageOk(store, 'unbundle', bundle);

  const cut = join(dir, 'cut.tar');
  writeFileSync(cut, makeTar([{ name: 'big', type: 'file', data: 'x'.repeat(5000) }]).subarray(0, 512 + 3000));
  execFileSync('umoci', ['raw', 'add-layer', '--image', `${store}:ins`, cut]);
  const r = await rockerImage(store, 'bundle', 'ins', join(dir, 'cut-bundle'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /entry "big": truncated/);
});
