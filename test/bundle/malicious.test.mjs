// Layers that try to write outside their target are refused, naming the layer
// and the entry, and leave the target (and the host) untouched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageOfLayers } from './fixture-image.mjs';
import { mountsUnder, rockerImage } from './cli.mjs';

let dir;
let outside;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-malicious-'));
  outside = join(dir, 'outside');
  mkdirSync(outside);
});

after(() => {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** An image of the given layers (entry lists); returns its store and the last layer's digest. */
function imageOf(...layers) {
  const layout = join(dir, `layout-${++n}`);
  return { layout, lastLayer: imageOfLayers(layout, 'bad', layers).at(-1) };
}

const file = (name) => ({ name, type: 'file', data: 'pwned\n' });
const CASES = [
  { what: 'a ../ name', layers: () => [[file('../escape')]], entry: '../escape', reason: /"\.\."/ },
  { what: 'a ../ name inside a directory', layers: () => [[{ name: 'a/', type: 'dir' }, file('a/../../escape')]], entry: 'a/../../escape', reason: /"\.\."/ },
  { what: 'an absolute name', layers: () => [[file(`${outside}/abs`)]], entry: `${outside}/abs`, reason: /absolute/ },
  {
    what: 'a symlinked parent in the same layer',
    layers: () => [[{ name: 'sl', type: 'symlink', linkname: outside }, file('sl/pwned')]],
    entry: 'sl/pwned',
    reason: /symlink/,
  },
  {
    what: 'a symlinked parent from a lower layer',
    layers: () => [[{ name: 'sl', type: 'symlink', linkname: `../../../../../../../../..${outside}` }], [file('sl/pwned')]],
    entry: 'sl/pwned',
    reason: /symlink/,
  },
  { what: 'a hardlink to ../', layers: () => [[{ name: 'hl', type: 'hardlink', linkname: '../../../../../../../etc/passwd' }]], entry: 'hl', reason: /hardlink target/ },
  { what: 'a hardlink to an absolute path', layers: () => [[{ name: 'hl', type: 'hardlink', linkname: '/etc/passwd' }]], entry: 'hl', reason: /hardlink target/ },
  {
    what: 'a hardlink through a symlinked parent',
    layers: () => [[{ name: 'etc-link', type: 'symlink', linkname: '/etc' }, { name: 'hl', type: 'hardlink', linkname: 'etc-link/passwd' }]],
    entry: 'hl',
    reason: /symlink/,
  },
  { what: 'a whiteout of ..', layers: () => [[{ name: 'a/', type: 'dir' }, file('a/.wh...')]], entry: 'a/.wh...', reason: /whiteout/ },
];

for (const c of CASES) {
  for (const flat of [false, true]) {
    test(`${c.what} is refused (${flat ? 'flat' : 'overlay'})`, async () => {
      const { layout, lastLayer } = imageOf(...c.layers());
      const bundle = join(dir, `bundle-${n}`);
      const preexisting = join(dir, `empty-${n}`);
      mkdirSync(preexisting);
      for (const target of [bundle, preexisting]) {
        const r = await rockerImage(layout, 'bundle', ...(flat ? ['--flat'] : []), 'bad', target);
        assert.equal(r.code, 1, r.stderr);
        assert.ok(r.stderr.includes(`layer ${lastLayer}: entry "${c.entry}"`), r.stderr);
        assert.match(r.stderr, c.reason);
      }
      assert.equal(existsSync(bundle), false, 'a new target dir is not left behind');
      assert.deepEqual(readdirSync(preexisting), [], 'an existing target dir is left empty');
      assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
      assert.equal(existsSync(join(dir, 'escape')), false);
      assert.equal(existsSync(join(layout, 'escape')), false);
      // No snapshot of the refused layer, and no temporary directory, remain.
      const snapshots = existsSync(join(layout, 'snapshots')) ? readdirSync(join(layout, 'snapshots')) : [];
      assert.equal(snapshots.length, flat ? 0 : c.layers().length - 1);
      assert.deepEqual(mountsUnder(dir), []);
    });
  }
}

// Directory times are set after a layer's entries; by then a later entry may
// have put a symlink to the host where the directory was.
for (const flat of [false, true]) {
  test(`a directory replaced by a symlink to the host leaves the host's times alone (${flat ? 'flat' : 'overlay'})`, async () => {
    const victim = join(dir, `victim-${flat ? 'flat' : 'overlay'}`);
    mkdirSync(victim);
    const before = new Date('2001-02-03T04:05:06Z');
    utimesSync(victim, before, before);
    const { layout } = imageOf([{ name: 'd/', type: 'dir' }, { name: 'd', type: 'symlink', linkname: victim }]);
    const bundle = join(dir, `bundle-${++n}`);
    const r = await rockerImage(layout, 'bundle', ...(flat ? ['--flat'] : []), 'bad', bundle);
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(statSync(victim).mtime.getTime(), before.getTime());
      assert.deepEqual(readdirSync(victim), []);
    } finally {
      await rockerImage(layout, 'unbundle', bundle);
    }
  });
}
