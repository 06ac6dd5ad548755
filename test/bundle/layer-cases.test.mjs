// Layers that other tools write and that are easy to get wrong: each image is
// unpacked by rocker (overlay bundle and --flat) and by `umoci unpack`, and the
// trees must be equal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageOfLayers } from './fixture-image.mjs';
import { describeTree, diffTrees } from './tree.mjs';
import { mountsUnder, rockerImageOk } from './cli.mjs';

let dir;
let n = 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-layer-cases-'));
});

after(() => {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

/** Unpacks image `tag` of `layout` with rocker (overlay and --flat); each tree must equal `expected`. */
async function assertUnpacksTo(layout, tag, expected, check) {
  for (const flat of [false, true]) {
    const bundle = join(dir, `bundle-${++n}`);
    await rockerImageOk(layout, 'bundle', ...(flat ? ['--flat'] : []), tag, bundle);
    try {
      const how = flat ? 'flat' : 'overlay';
      assert.deepEqual(diffTrees(expected, await describeTree(join(bundle, 'rootfs'))), [], how);
      check?.(join(bundle, 'rootfs'), how);
    } finally {
      await rockerImageOk(layout, 'unbundle', bundle);
    }
  }
}

/** What `umoci unpack` makes of image `tag` of `layout` (after `check` on it). */
async function umociTree(layout, tag, check) {
  const umoci = join(dir, `umoci-${++n}`);
  execFileSync('umoci', ['unpack', '--image', `${layout}:${tag}`, umoci]);
  check?.(join(umoci, 'rootfs'), 'umoci');
  return describeTree(join(umoci, 'rootfs'));
}

/** Unpacks image `tag` with umoci and with rocker (overlay and --flat); the trees must be equal. Returns umoci's. */
async function assertSameAsUmoci(layout, tag, check) {
  const expected = await umociTree(layout, tag, check);
  await assertUnpacksTo(layout, tag, expected, check);
  return expected;
}

const file = (name, data) => ({ name, type: 'file', data });

// Image spec: a whiteout hides only what lower layers have, so a hardlink in
// the same layer to a lower file that the layer whites out still gets its
// content, whichever comes first in the tar. umoci unpacks the link-first
// order (and fails on the other); both orders must give that tree.
test('a hardlink to a lower file that the same layer whites out keeps the content (both orders)', async () => {
  const lower = [file('a', 'content of a\n'), { name: 'd/', type: 'dir' }, file('d/b', 'content of b\n'), { name: 'gone/', type: 'dir' }, file('gone/c', 'c\n')];
  const whiteouts = [file('.wh.a', ''), file('d/.wh.b', ''), file('.wh.gone', '')];
  const links = [
    { name: 'keep-a', type: 'hardlink', linkname: 'a' },
    { name: 'keep-a2', type: 'hardlink', linkname: 'a' },
    { name: 'keep-b', type: 'hardlink', linkname: 'd/b' },
    { name: 'keep-c', type: 'hardlink', linkname: 'gone/c' },
  ];
  const check = (root, how) => {
    assert.equal(readFileSync(join(root, 'keep-a'), 'utf8'), 'content of a\n', how);
    assert.equal(statSync(join(root, 'keep-a')).ino, statSync(join(root, 'keep-a2')).ino, how);
    assert.equal(readFileSync(join(root, 'keep-b'), 'utf8'), 'content of b\n', how);
    assert.equal(readFileSync(join(root, 'keep-c'), 'utf8'), 'c\n', how);
  };
  const linkFirst = join(dir, 'link-first');
  imageOfLayers(linkFirst, 'hl', [lower, [...links, ...whiteouts]]);
  const expected = await assertSameAsUmoci(linkFirst, 'hl', check);
  assert.ok(!expected.has('a') && !expected.has('d/b') && !expected.has('gone') && expected.has('d'));
  const whiteoutFirst = join(dir, 'whiteout-first');
  imageOfLayers(whiteoutFirst, 'hl', [lower, [...whiteouts, ...links]]);
  await assertUnpacksTo(whiteoutFirst, 'hl', expected, check);
});

// GNU tar writes a long name as a PAX record (--format=pax) or a ././@LongLink
// 'L'/'K' record (--format=gnu), with a truncated name in the header itself.
for (const format of ['pax', 'gnu']) {
  test(`GNU tar --format=${format}: a 100-level, 400+ character path and long link targets`, async () => {
    const src = join(dir, `src-${++n}`);
    const deep = Array.from({ length: 100 }, (_, i) => `dir${i}`).join('/');
    mkdirSync(join(src, deep), { recursive: true });
    writeFileSync(join(src, deep, 'file'), 'deep\n');
    linkSync(join(src, deep, 'file'), join(src, 'hardlink-to-deep'));
    symlinkSync(`/${deep}/file`, join(src, 'symlink-to-deep'));
    const tar = join(dir, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '--sort=name', '-cf', tar, '-C', src, '.']);
    assert.ok(`./${deep}/file`.length > 400);
    const layout = join(dir, `tar-${format}`);
    imageOfLayers(layout, 'long', [tar]);
    const tree = await assertSameAsUmoci(layout, 'long', (root, how) => {
      assert.equal(readFileSync(join(root, deep, 'file'), 'utf8'), 'deep\n', how);
      assert.equal(readFileSync(join(root, 'hardlink-to-deep'), 'utf8'), 'deep\n', how);
    });
    assert.equal(tree.get(`${deep}/file`).type, 'file');
  });
}

// umoci repack turning a directory into a file writes `data/x` and then
// `data/x/.wh.old`: the whiteout has nothing left to hide (umoci, containerd
// and podman accept it).
test('a whiteout below a directory that the same layer replaced by a file (umoci repack) is accepted', async () => {
  const layout = join(dir, 'dir-to-file');
  const bundle = join(dir, `work-${++n}`);
  execFileSync('umoci', ['init', '--layout', layout]);
  execFileSync('umoci', ['new', '--image', `${layout}:t`]);
  const repack = (change) => {
    execFileSync('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
    change(join(bundle, 'rootfs'));
    execFileSync('umoci', ['repack', '--image', `${layout}:t`, bundle]);
    rmSync(bundle, { recursive: true });
  };
  repack((r) => {
    mkdirSync(join(r, 'data/x'), { recursive: true });
    writeFileSync(join(r, 'data/x/old'), 'old\n');
  });
  repack((r) => {
    rmSync(join(r, 'data/x'), { recursive: true });
    writeFileSync(join(r, 'data/x'), 'now a file\n');
  });
  execFileSync('umoci', ['config', '--image', `${layout}:t`, '--config.cmd', '/bin/sh']);
  const tree = await assertSameAsUmoci(layout, 't', (root, how) => assert.equal(readFileSync(join(root, 'data/x'), 'utf8'), 'now a file\n', how));
  assert.equal(tree.get('data/x').type, 'file');
});
