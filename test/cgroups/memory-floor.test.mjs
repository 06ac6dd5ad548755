// Node's memory is never charged to the container: only nsexec's child joins the
// container's cgroup, so a 1 MiB memory limit is enough to run `echo` (runc's init
// is charged ~2.2 MiB on this kind of host and fails to set that limit).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, rt, tempDir, cleanupRoot, uniqueId } from '../runtime/helpers.mjs';
import { hierarchyMounts } from './layout.mjs';

const root = tempDir('memfloor-root');
const bundles = [];
after(async () => {
  await cleanupRoot(root);
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
});

test('a container limited to 1 MiB of memory starts and runs echo', async () => {
  const id = uniqueId('memfloor');
  const b = makeBundle((c) => {
    c.process.args = ['/bin/echo', 'fits in 1 MiB'];
    c.linux.resources = { ...c.linux.resources, memory: { limit: 1024 * 1024 } };
  });
  bundles.push(b);
  const r = await rt(root, ['run', '--bundle', b, id]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'fits in 1 MiB\n');
  assert.deepEqual(hierarchyMounts().map((h) => join(h, 'rocker', id)).filter(existsSync), [], 'the container cgroup is removed with the container');
});
