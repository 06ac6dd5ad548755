// The per-container lock: commands on one id are serialised, different ids
// are not, and a holder killed with SIGKILL does not leave the id locked.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockContainer } from '../../dist/runtime/state/lock.js';
import { tempDir, uniqueId } from './helpers.mjs';

const root = tempDir('lock');
after(() => rmSync(root, { recursive: true, force: true }));

const LOCK_MODULE = new URL('../../dist/runtime/state/lock.js', import.meta.url).href;

/** A separate process that takes the lock, says "locked", and holds it until killed. */
async function holder(id, prelude = '') {
  const code = `${prelude}import(${JSON.stringify(LOCK_MODULE)}).then(async (m) => {
    await m.lockContainer(${JSON.stringify(root)}, ${JSON.stringify(id)});
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1 << 30);
  });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = await once(child.stdout, 'data');
  assert.equal(String(chunk), 'locked\n');
  return child;
}

test('a second locker waits until the holder releases, in order', async () => {
  const id = uniqueId('lk');
  const order = [];
  const first = await lockContainer(root, id);
  const second = lockContainer(root, id).then((l) => {
    order.push('second');
    return l;
  });
  await new Promise((r) => setImmediate(r));
  order.push('release first');
  first.release();
  (await second).release();
  assert.deepEqual(order, ['release first', 'second']);
});

test('different ids and different roots do not contend', async () => {
  const id = uniqueId('lk');
  // Held by another process until it is killed: a lock that contended with it would wait for good.
  const child = await holder(id);
  try {
    const others = Promise.all([lockContainer(root, `${id}-other`), lockContainer(`${root}/elsewhere`, id)]);
    const granted = await Promise.race([others, sleep(10_000, undefined, { ref: false }).then(() => 'still waiting after 10 s')]);
    assert.ok(Array.isArray(granted), `a lock on another id or another root waited for the holder of ${id}: ${granted}`);
    for (const l of granted) l.release();
  } finally {
    child.kill('SIGKILL');
  }
});

test('a holder killed with SIGKILL releases the lock', async () => {
  const id = uniqueId('lk');
  const child = await holder(id);
  let acquired = false;
  const waiting = lockContainer(root, id).then((l) => {
    acquired = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(acquired, false, 'held by the other process');
  child.kill('SIGKILL');
  (await waiting).release();
  assert.equal(acquired, true);
});

test('without process.binding the lock falls back to net.Server, with the same semantics', async () => {
  const id = uniqueId('lk');
  const child = await holder(id, "process.binding = () => { throw new Error('no bindings'); };\n");
  let acquired = false;
  const waiting = lockContainer(root, id).then((l) => {
    acquired = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(acquired, false, 'held by the process that used net.Server');
  child.kill('SIGKILL');
  (await waiting).release();
  assert.equal(acquired, true);
});
