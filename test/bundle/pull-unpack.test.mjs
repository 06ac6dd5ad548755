// Pull unpacks each layer into its snapshot while it downloads. A bundle over
// those snapshots must show what `umoci unpack` gives; a parent directory a
// layer does not list takes its owner and mode from the layers below once they
// are in place; a layer that cannot be unpacked on the way (a hardlink to a
// lower layer's file) is unpacked by pull from its stored blob. A layer that
// cannot be unpacked at all fails the pull, which then writes no ref.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { checkStore } from '../helpers/store-check.mjs';
import { buildMultiLayerImage, imageOfLayers, makeTar } from './fixture-image.mjs';
import { describeTree, diffTrees } from './tree.mjs';
import { mountsUnder, rockerImage, rockerImageOk } from './cli.mjs';

let dir;
let registry;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-pull-unpack-'));
  process.env.DOCKER_CONFIG = join(dir, 'docker');
  registry = await startRegistry();
});

after(async () => {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m]);
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'ignore' });

/** A base layer with an owned 0750 directory, then a layer writing into it (and a deep path) without listing the parents. */
function buildImplicitParentImage(at) {
  const layout = join(at, 'layout');
  const work = join(at, 'work');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:implicit`]);
  run('umoci', ['unpack', '--image', `${layout}:implicit`, work]);
  const r = join(work, 'rootfs');
  mkdirSync(join(r, 'data'));
  writeFileSync(join(r, 'data/old'), 'old\n');
  chownSync(join(r, 'data'), 1000, 1001);
  chmodSync(join(r, 'data'), 0o750);
  mkdirSync(join(r, 'usr/lib'), { recursive: true });
  chmodSync(join(r, 'usr/lib'), 0o711);
  run('umoci', ['repack', '--image', `${layout}:implicit`, work]);
  const tar = join(at, 'top.tar');
  writeFileSync(
    tar,
    makeTar([
      { name: 'data/new', type: 'file', data: 'new\n', uid: 1000, gid: 1001 },
      { name: 'data/.wh.old', type: 'file' },
      { name: 'usr/lib/deep/er/file', type: 'file', data: 'deep\n' },
    ]),
  );
  run('umoci', ['raw', 'add-layer', '--image', `${layout}:implicit`, tar]);
  run('umoci', ['config', '--image', `${layout}:implicit`, '--config.cmd', '/bin/sh']);
  return layout;
}

/** Pushes, pulls into a fresh store, checks what the pull left, bundles and compares with umoci. */
async function pullAndCompare(name, layout, tag, snapshotsAfterPull) {
  const at = join(dir, name);
  mkdirSync(at);
  run('umoci', ['unpack', '--image', `${layout}:${tag}`, join(at, 'umoci')]);
  const expected = await describeTree(join(at, 'umoci', 'rootfs'));
  await pushImage({ dir: layout, refs: {} }, tag, registry.host, `${name}:latest`);
  const root = join(at, 'store');
  const ref = `${registry.host}/${name}:latest`;
  await rockerImageOk(root, 'pull', ref);
  assert.deepEqual(await checkStore(root), []);
  assert.equal(readdirSync(join(root, 'snapshots')).length, snapshotsAfterPull);
  const bundle = join(at, 'bundle');
  await rockerImageOk(root, 'bundle', ref, bundle);
  try {
    assert.deepEqual(diffTrees(expected, await describeTree(join(bundle, 'rootfs'))), []);
  } finally {
    await rockerImageOk(root, 'unbundle', bundle);
  }
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  return root;
}

test('pulled snapshots with parents a layer does not list give what umoci unpack gives', async () => {
  const at = join(dir, 'implicit-src');
  mkdirSync(at);
  await pullAndCompare('implicit', buildImplicitParentImage(at), 'implicit', 2);
});

test('a layer with a hardlink to a lower file is unpacked by pull from its blob; the tree is still umoci\'s', async () => {
  const at = join(dir, 'multi-src');
  mkdirSync(at);
  const { layout } = await buildMultiLayerImage(at);
  // Layers 1 and 2 on the way; layer 3 (the hardlink to data/keep.txt below it) from its stored blob.
  await pullAndCompare('multi', layout, 'multi', 3);
});

test('pull --no-unpack stores the blobs only', async () => {
  const root = join(dir, 'no-unpack');
  await rockerImageOk(root, 'pull', '--no-unpack', `${registry.host}/implicit:latest`);
  assert.deepEqual(await checkStore(root), []);
  assert.equal(existsSync(join(root, 'snapshots')), false);
});

// Like skopeo copy / podman pull, which fail when a layer cannot be applied and
// record no image: the pull exits 1 naming the layer and entry, writes no ref,
// keeps the verified blobs (gc removes them) and leaves no temporary files.
const BROKEN_LAYERS = [
  { what: 'an escape attempt', entries: [{ name: '../escape', type: 'file', data: 'x' }], entry: '../escape', reason: /"\.\."/ },
  {
    what: 'a symlink loop as a parent',
    entries: [
      { name: 'loop-a', type: 'symlink', linkname: 'loop-b' },
      { name: 'loop-b', type: 'symlink', linkname: 'loop-a' },
      { name: 'loop-a/x', type: 'file', data: 'x' },
    ],
    entry: 'loop-a/x',
    reason: /symlink/,
  },
  { what: 'a bad xattr', entries: [{ name: 'f', type: 'file', data: 'x', xattrs: new Map([['bogus.name', Buffer.from('v')]]) }], entry: 'f', reason: /xattr|not supported/i },
  { what: 'a path deeper than PATH_MAX', entries: [{ name: `${'d/'.repeat(2100)}f`, type: 'file', data: 'x' }], entry: `${'d/'.repeat(2100)}f`, reason: /ENAMETOOLONG|too long/i },
];

for (const [i, c] of BROKEN_LAYERS.entries()) {
  test(`a pull whose layer cannot be unpacked (${c.what}) fails and writes no ref`, async () => {
    const at = join(dir, `broken-${i}`);
    mkdirSync(at);
    const layout = join(at, 'layout');
    const digests = imageOfLayers(layout, 'broken', [[{ name: 'base', type: 'file', data: 'base\n' }], c.entries]);
    await pushImage({ dir: layout, refs: {} }, 'broken', registry.host, `broken-${i}:latest`);
    const root = join(at, 'store');
    const r = await rockerImage(root, 'pull', `${registry.host}/broken-${i}:latest`);
    assert.equal(r.code, 1, r.stderr);
    const head = `pull ${registry.host}/broken-${i}:latest: cannot unpack layer ${digests[1]}: entry "${c.entry}"`;
    assert.ok(r.stderr.includes(head), r.stderr.slice(0, 500));
    assert.match(r.stderr, c.reason);
    assert.match(r.stderr, /no ref was written/);
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')).manifests, []);
    assert.deepEqual(await checkStore(root), [], 'the blobs are verified, no temp file is left');
    // The layer below was unpacked; nothing of the broken one remains.
    assert.equal(readdirSync(join(root, 'snapshots')).length, 1);
    assert.equal(existsSync(join(at, 'escape')), false);
    assert.equal(existsSync(join(root, 'escape')), false);
  });
}
