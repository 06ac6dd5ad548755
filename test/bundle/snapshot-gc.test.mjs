// Snapshots live as long as an image in the store or a mounted bundle uses
// them; gc and unbundle remove the rest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppImage } from './busybox-image.mjs';
import { mountsUnder, rockerImageOk } from './cli.mjs';

let dir;
let store;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-snapgc-'));
  store = buildAppImage(dir).dir;
});

after(() => {
  for (const m of mountsUnder(dir)) execFileSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
});

const snapshots = () => readdirSync(join(store, 'snapshots')).filter((n) => !n.startsWith('.')).sort();

test('gc keeps what images and mounted bundles use, unbundle drops the rest', async () => {
  // A derived image: app plus one committed layer.
  const work = join(dir, 'work');
  await rockerImageOk(store, 'bundle', 'app', work);
  writeFileSync(join(work, 'rootfs', 'derived'), 'x');
  await rockerImageOk(store, 'commit', work, 'derived');
  await rockerImageOk(store, 'unbundle', work);
  const base = snapshots();

  const derived = join(dir, 'derived-bundle');
  await rockerImageOk(store, 'bundle', 'derived', derived);
  const all = snapshots();
  assert.equal(all.length, base.length + 1);

  await rockerImageOk(store, 'gc');
  assert.deepEqual(snapshots(), all, 'every snapshot belongs to an image');

  await rockerImageOk(store, 'rmi', 'derived');
  const gc = await rockerImageOk(store, 'gc');
  assert.deepEqual(snapshots(), all, 'the mounted bundle keeps the derived layer');
  assert.doesNotMatch(gc.stdout, /snapshots/);

  await rockerImageOk(store, 'unbundle', derived);
  assert.deepEqual(snapshots(), base, 'unbundle removed the layer only it used');

  await rockerImageOk(store, 'rmi', 'app');
  assert.match((await rockerImageOk(store, 'gc')).stdout, new RegExp(`Removed ${base.length} snapshots`));
  assert.deepEqual(snapshots(), []);
});
