// rocker-runtime create with cgroup settings the host or the kernel refuses:
// a clear error, and no state dir, cgroup or process left behind. (These fail
// before nsexec runs, so they need no container process.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, rtDetached, tempDir, cleanupRoot } from '../runtime/helpers.mjs';
import { cleanup, gatedShell, home, layout, open, place, topDirs, TOP } from './helpers.mjs';

const root = tempDir('cgroot');
const bundles = [];
after(async () => {
  await cleanupRoot(root);
  await cleanup();
  const { rmSync } = await import('node:fs');
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
});

let n = 0;
async function create(linux) {
  const id = `cgcreate-${process.pid}-${++n}`;
  const bundle = makeBundle((c) => Object.assign(c.linux, linux));
  bundles.push(bundle);
  const r = await rtDetached(root, ['create', '--bundle', bundle, id]);
  return { id, ...r };
}

function assertNothingLeft(id, parent) {
  assert.ok(!existsSync(join(root, id)), 'no state dir');
  for (const d of topDirs()) assert.ok(!existsSync(join(d, '..', parent)), `no ${join(d, '..', parent)}`);
}

test('an escaping cgroupsPath is refused', async () => {
  const r = await create({ cgroupsPath: `/${TOP}-esc/../../../x` });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /linux\.cgroupsPath: .*escapes the cgroup root/);
  assert.ok(!existsSync(join(root, r.id)));
});

test('a controller the host lacks is refused, naming the field', async () => {
  const parent = `${TOP}-net`;
  const r = await create({ cgroupsPath: `/${parent}/c`, resources: { network: { classID: 1048577 } } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /linux\.resources\.network\.classID: the net_cls \(v1\) controller is not available on this host/);
  assertNothingLeft(r.id, parent);
});

test('a value the kernel rejects names the file and the value', async () => {
  const parent = `${TOP}-reject`;
  // cpuset where there is one, else a pids limit the kernel refuses.
  const [resources, file] = home('cpuset')
    ? [{ cpu: { cpus: '64-65' } }, `${home('cpuset') === 'v1' ? layout.v1.get('cpuset') : layout.unified}/.*/c/cpuset\\.cpus: \\\\?"64-65\\\\?": `]
    : [{ unified: { 'pids.max': '-5' } }, `${layout.unified}/.*/c/pids\\.max: \\\\?"-5\\\\?": invalid argument`];
  const r = await create({ cgroupsPath: `/${parent}/c`, resources });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`write ${file}`));
  assertNothingLeft(r.id, parent);
});

test('an existing cgroup with processes is taken with a warning; delete kills only its own init and leaves the cgroup', async () => {
  const m = await open('occupied');
  await m.create(undefined);
  const other = await gatedShell('exec sleep 60');
  place(m.paths, other.pid);
  const [key, dir] = Object.entries(m.paths)[0];
  const cgroupsPath = dir.slice((key === '' ? layout.unified : layout.v1.get(key)).length);
  const r = await create({ cgroupsPath });
  try {
    assert.equal(r.code, 0, r.stderr);
    // runc 1.1's warning, on stderr without --log
    assert.match(r.stderr, /level=warning msg="container's cgroup is not empty: 1 process\(es\) found"/);
    assert.equal((await m.pids()).length, 2, 'the init joined the cgroup');
  } finally {
    const d = await rtDetached(root, ['delete', '-f', r.id]);
    assert.equal(d.code, 0, d.stderr);
  }
  assert.ok(!existsSync(join(root, r.id)));
  assert.equal(other.exitCode, null, 'the other process still runs');
  assert.deepEqual(await m.pids(), [other.pid]);
  for (const d of Object.values(m.paths)) assert.ok(existsSync(d), 'the cgroup still in use stays');
});

test('a memory limit below what the init needs reads like runc (not as a broken nsexec protocol)', async () => {
  const parent = `${TOP}-memfloor`;
  // The kernel rounds 1000 bytes down to no page at all: the init is OOM-killed as it joins.
  const r = await create({ cgroupsPath: `/${parent}/c`, resources: { memory: { limit: 1000 } } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unable to set memory limit to 1000 \(current usage: \d+, peak usage: \d+\)/);
  assert.doesNotMatch(r.stderr, /nsexec (sent|exited)/);
  // The cgroup was made before the init died in it: its leaf is removed (the parent, as after any delete, stays for cleanup()).
  assertNothingLeft(r.id, `${parent}/c`);
});
