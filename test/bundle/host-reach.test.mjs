// Image content out of reach of host users (issue 16, item 1; the class of
// CVE-2021-41091): an image's setuid-root binary and 0666 device node, unpacked
// by rocker-image into a bundle (overlay and --flat), its snapshots and its store,
// must not be executable or openable by `nobody` through any host path; the same
// attack on a bundle `umoci unpack` made. And the container itself still runs the
// setuid binary and opens the device (no nosuid/nodev forced on its rootfs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mountsUnder, rockerImageOk } from './cli.mjs';
import { NOBODY } from '../helpers/squatter.mjs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const RUNTIME = fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url));
const PROBE_SRC = fileURLToPath(new URL('../hardening/setuid-probe.c', import.meta.url));

let work;
let layout;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'rocker-reach-'));
  // Every user may walk to the bundles: only rocker's (or umoci's) own dirs may stop them.
  chmodSync(work, 0o755);
  const probe = join(work, 'probe');
  const cc = spawnSync('cc', ['-static', '-O1', '-o', probe, PROBE_SRC], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  layout = join(work, 'layout');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:reach`]);
  const ub = join(work, 'build');
  run('umoci', ['unpack', '--image', `${layout}:reach`, ub]);
  const r = join(ub, 'rootfs');
  mkdirSync(join(r, 'bin'));
  copyFileSync(probe, join(r, 'bin/probe'));
  chmodSync(join(r, 'bin/probe'), 0o4755);
  copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
  for (const a of ['sh', 'head', 'wc']) symlinkSync('busybox', join(r, 'bin', a));
  run('mknod', ['-m', '0666', join(r, 'zero'), 'c', '1', '5']);
  run('umoci', ['repack', '--image', `${layout}:reach`, ub]);
  rmSync(ub, { recursive: true });
  run('umoci', ['config', '--image', `${layout}:reach`, '--config.cmd', '/bin/probe']);
});

after(() => {
  for (const m of mountsUnder(work)) spawnSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

/** What `nobody` gets from each {label: path of the setuid binary, of the device}. */
function attackAsNobody(targets) {
  const code = `
    const { execFileSync } = require('node:child_process');
    const fs = require('node:fs');
    const out = {};
    for (const [label, { exe, dev }] of Object.entries(${JSON.stringify(targets)})) {
      const r = {};
      try { r.exec = String(execFileSync(exe, { stdio: ['ignore', 'pipe', 'ignore'] })).trim(); } catch (e) { r.exec = e.code ?? 'failed'; }
      try { fs.closeSync(fs.openSync(dev, 'r')); r.open = 'opened'; } catch (e) { r.open = e.code; }
      out[label] = r;
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', code], { uid: NOBODY, gid: NOBODY, cwd: '/', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The content really is there (as root sees it): a setuid-root binary and a 0666 device. */
function assertPresent({ exe, dev }) {
  const e = statSync(exe);
  assert.equal(e.uid, 0);
  assert.ok(e.mode & 0o4000, `${exe} is setuid`);
  const d = statSync(dev);
  assert.ok(d.isCharacterDevice() && (d.mode & 0o777) === 0o666, `${dev} is a 0666 device`);
}

test('nobody can neither run the image\'s setuid binary nor open its device, through rocker\'s or umoci\'s bundles, snapshots or store', { timeout: 180000 }, async () => {
  const overlay = join(work, 'bundle-overlay');
  const flat = join(work, 'bundle-flat');
  const umoci = join(work, 'bundle-umoci');
  await rockerImageOk(layout, 'bundle', 'reach', overlay);
  await rockerImageOk(layout, 'bundle', '--flat', 'reach', flat);
  run('umoci', ['unpack', '--image', `${layout}:reach`, umoci]);
  const inRootfs = (dir) => ({ exe: join(dir, 'bin/probe'), dev: join(dir, 'zero') });
  const targets = {
    overlay: inRootfs(join(overlay, 'rootfs')),
    flat: inRootfs(join(flat, 'rootfs')),
    umoci: inRootfs(join(umoci, 'rootfs')),
  };
  // Every snapshot that holds them.
  for (const hex of readdirSync(join(layout, 'snapshots'))) {
    const fs = join(layout, 'snapshots', hex, 'fs');
    if (readdirSync(fs).includes('zero')) targets[`snapshot ${hex.slice(0, 12)}`] = inRootfs(fs);
  }
  assert.ok(Object.keys(targets).length > 3, 'a snapshot holds the layer');
  for (const t of Object.values(targets)) assertPresent(t);
  const got = attackAsNobody(targets);
  for (const [label, r] of Object.entries(got)) {
    assert.equal(r.exec, 'EACCES', `${label}: nobody ran ${targets[label].exe}: ${r.exec}`);
    assert.equal(r.open, 'EACCES', `${label}: nobody opened ${targets[label].dev}: ${r.open}`);
  }
  // What stops nobody: the bundle dirs (rocker's as umoci's) and the store's snapshots and tmp are root's alone.
  for (const dir of [overlay, flat, umoci, join(layout, 'snapshots'), join(layout, 'tmp')]) {
    assert.equal(statSync(dir).mode & 0o777, 0o700, dir);
  }
  await rockerImageOk(layout, 'unbundle', overlay);
});

test('the container still runs the image\'s setuid binary and opens its device', { timeout: 120000 }, async () => {
  const bundle = join(work, 'bundle-run');
  await rockerImageOk(layout, 'bundle', 'reach', bundle);
  const id = `reach-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const cfgPath = join(bundle, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.process.args = ['sh', '-c', '/bin/probe; head -c 3 /zero | wc -c'];
    cfg.process.user = { uid: 1000, gid: 1000 };
    cfg.process.noNewPrivileges = false;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const r = spawnSync(process.execPath, [RUNTIME, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^uid=1000 euid=0\n/);
    assert.match(r.stdout, /^3$/m);
  } finally {
    spawnSync(process.execPath, [RUNTIME, 'delete', '-f', id]);
    await rockerImageOk(layout, 'unbundle', bundle);
  }
});
