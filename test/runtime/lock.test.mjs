// The per-container lock: commands on one id are serialised, different ids
// are not, a holder killed with SIGKILL does not leave the id locked, and no
// other local user can take it first.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockContainer } from '../../dist/runtime/state/lock.js';
import { lockFileByte } from '../../dist/runtime/state/file-lock.js';
import { makeBundle, rt, rtDetached, tempDir, uniqueId } from './helpers.mjs';
import { squatAsNobody } from '../helpers/squatter.mjs';

const root = tempDir('lock');
after(() => rmSync(root, { recursive: true, force: true }));

const LOCK_MODULE = new URL('../../dist/runtime/state/lock.js', import.meta.url).href;
const FILE_LOCK_MODULE = new URL('../../dist/runtime/state/file-lock.js', import.meta.url).href;

/** A separate process that imports `module`, takes a lock with `take` (code using
 *  `m`), says "locked", and holds it until killed; "remove\n" on its stdin makes it
 *  remove `file`. */
async function holderProcess(module, take, file = '') {
  const code = `import(${JSON.stringify(module)}).then(async (m) => {
    await ${take};
    process.stdout.write('locked\\n');
    process.stdin.on('data', () => { require('node:fs').unlinkSync(${JSON.stringify(file)}); process.stdout.write('removed\\n'); });
  });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = await once(child.stdout, 'data');
  assert.equal(String(chunk), 'locked\n');
  return child;
}

const holder = (id) => holderProcess(LOCK_MODULE, `m.lockContainer(${JSON.stringify(root)}, ${JSON.stringify(id)})`);
const fileHolder = (file) => holderProcess(FILE_LOCK_MODULE, `m.lockFileByte(${JSON.stringify(file)}, 0)`, file);

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

test('nobody cannot squat a container\'s lock: create and delete of that id go on', { timeout: 60000 }, async () => {
  const id = uniqueId('lk');
  const bundle = makeBundle();
  // The abstract socket name rocker's lock used to be (any user can bind it first).
  const oldName = `\0rocker/lock/${fnv1a64(`${resolve(root)}\0${id}`)}`;
  (await lockContainer(root, 'make-the-lock-file')).release();
  const { child, report } = await squatAsNobody({ names: [oldName], file: join(root, '@lock') });
  try {
    const created = await rtDetached(root, ['create', '--bundle', bundle, id]);
    assert.equal(created.code, 0, created.stderr);
    const deleted = await rt(root, ['delete', '-f', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(report.open, 'EACCES', 'only root may open the lock file');
    const st = statSync(join(root, '@lock'));
    assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600]);
  } finally {
    child.kill('SIGKILL');
    await rt(root, ['delete', '-f', id]);
    rmSync(bundle, { recursive: true, force: true });
  }
});

/** The name scheme of the abstract-socket lock (64-bit FNV-1a). */
function fnv1a64(text) {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

test('a lock won on a file its holder removed is taken again on the new file', async () => {
  const file = join(root, `removed-${uniqueId('f')}`);
  const first = await fileHolder(file);
  let acquired = false;
  // Waits in the kernel on the first file.
  const waiting = lockFileByte(file, 0).then((l) => {
    acquired = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 100));
  first.stdin.write('remove\n');
  await once(first.stdout, 'data');
  // A new file, and its lock, while the waiter still waits on the old one.
  const second = await fileHolder(file);
  first.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(acquired, false, 'the lock on the removed file excludes nobody: the new file\'s holder still does');
  second.kill('SIGKILL');
  (await waiting).release();
  assert.equal(acquired, true);
});
