// A layer that expands past --max-layer-size or --max-layer-ratio (a
// decompression bomb) is refused by bundle and by pull, naming the layer and
// the limit, and leaves no bundle, snapshot, ref or temporary file behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { checkStore } from '../helpers/store-check.mjs';
import { imageOfLayers } from './fixture-image.mjs';
import { mountsUnder, rockerImage, rockerImageOk } from './cli.mjs';

const MiB = 1024 * 1024;
let dir;
let layout;
let bomb;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-limits-'));
  // 96 MiB of zeros: ~100 KB of gzip, a ratio of ~1000.
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'zeros'), '');
  truncateSync(join(src, 'zeros'), 96 * MiB);
  const tar = join(dir, 'bomb.tar');
  execFileSync('tar', ['--format=pax', '-cf', tar, '-C', src, 'zeros']);
  layout = join(dir, 'layout');
  bomb = imageOfLayers(layout, 'bomb', [[{ name: 'base', type: 'file', data: 'base\n' }], tar])[1];
  rmSync(tar);
});

after(() => {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

const snapshotsOf = (root) => (existsSync(join(root, 'snapshots')) ? readdirSync(join(root, 'snapshots')) : []);

for (const flat of [false, true]) {
  const how = flat ? 'flat' : 'overlay';
  test(`bundle refuses a layer past --max-layer-size, and past the ratio from ROCKER_MAX_LAYER_RATIO (${how})`, async () => {
    for (const [args, env, reason] of [
      [['--max-layer-size', '64M'], {}, `expands to more than ${64 * MiB} bytes, the limit of --max-layer-size`],
      [[], { ROCKER_MAX_LAYER_RATIO: '50', ROCKER_LAYER_RATIO_FROM: '16M' }, 'expands to more than 50 times its'],
    ]) {
      const bundle = join(dir, `bundle-${how}-${args.length}`);
      const before = snapshotsOf(layout).length;
      const r = await rockerImage(layout, ...args, 'bundle', ...(flat ? ['--flat'] : []), 'bomb', bundle, { env });
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.stderr.includes(`layer ${bomb}: ${reason}`), r.stderr);
      assert.equal(existsSync(bundle), false, 'no bundle dir is left');
      assert.equal(snapshotsOf(layout).length, flat ? before : 1, 'only the base layer has a snapshot');
      assert.deepEqual(readdirSync(join(layout, 'tmp')), [], 'no temporary snapshot is left');
      assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.unpack-')), [], 'no temporary flat rootfs is left');
    }
  });
}

test('the default limits let the layer through; a bad limit is an error naming the flag', async () => {
  const bundle = join(dir, 'bundle-default');
  await rockerImageOk(layout, 'bundle', '--flat', 'bomb', bundle);
  assert.equal(readFileSync(join(bundle, 'rootfs/zeros')).length, 96 * MiB);
  await rockerImageOk(layout, 'unbundle', bundle);
  const r = await rockerImage(layout, '--max-layer-size', 'lots', 'bundle', 'bomb', join(dir, 'bundle-bad'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--max-layer-size: "lots" is not a size/);
});

test('pull refuses a layer past --max-layer-size: exit 1, no ref, no partial snapshot', async () => {
  const registry = await startRegistry();
  try {
    await pushImage({ dir: layout, refs: {} }, 'bomb', registry.host, 'bomb:latest');
    const root = join(dir, 'pull-store');
    const r = await rockerImage(root, '--max-layer-size', '32M', 'pull', `${registry.host}/bomb:latest`);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`cannot unpack layer ${bomb}: expands to more than ${32 * MiB} bytes`), r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')).manifests, []);
    assert.deepEqual(await checkStore(root), []);
    assert.equal(snapshotsOf(root).length, 1, 'only the base layer has a snapshot');
  } finally {
    await registry.stop();
  }
});
