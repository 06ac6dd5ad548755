// Sequential lifecycles leave nothing behind: no state entries, no cgroups, no
// mounts, no fds in the caller, and every container sees the same fds (no fd of
// the runtime leaks into it). `make bench` runs the same check 1,000 times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { RUNTIME, tempDir } from './helpers.mjs';
import { lifecycleCheck } from '../helpers/lifecycles.mjs';

test('50 sequential runs end with state dir, cgroups, mounts and fds as they started', () => {
  const work = tempDir('lifecycles');
  try {
    const r = lifecycleCheck({ runtime: [process.execPath, RUNTIME], work, n: 50 });
    assert.deepEqual(r.after, r.before);
    assert.deepEqual(r.before.stateEntries, []);
    assert.deepEqual(r.before.cgroups, []);
    // ls lists its own directory fd (3) besides stdio: nothing else is inherited.
    assert.deepEqual([...r.containerFds], ['0 1 2 3']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
