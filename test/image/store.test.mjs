import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Store, DigestMismatchError, ImageNotFoundError, sha256Digest, MT } from '../../dist/imagetool/store/index.js';
import { withStoreLock } from '../../dist/imagetool/store/lock.js';
import { squatAsNobody } from '../helpers/squatter.mjs';
import { checkStore } from '../helpers/store-check.mjs';

const STORE_URL = new URL('../../dist/imagetool/store/index.js', import.meta.url).href;
const LOCK_URL = new URL('../../dist/imagetool/store/lock.js', import.meta.url).href;

async function withRoot(fn) {
  const root = await mkdtemp(join(tmpdir(), 'rocker-store-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** A tiny valid image (one layer) written through the store API. */
async function addImage(store, name, text = name) {
  const layer = await store.writeBlob(`layer ${text}`);
  const diff = layer.digest;
  const config = await store.writeBlob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diff] } }));
  const manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...config }, layers: [{ mediaType: MT.ociLayerTar, ...layer }] };
  const m = await store.writeBlob(JSON.stringify(manifest));
  await store.setRef(name, { mediaType: MT.ociManifest, ...m });
  return { layer, config, manifest: m };
}

test('writeBlob verifies digest and size and leaves nothing on mismatch', () =>
  withRoot(async (root) => {
    const store = await Store.open(root);
    const good = await store.writeBlob('hello', { digest: sha256Digest('hello'), size: 5 });
    assert.equal(good.digest, sha256Digest('hello'));
    await assert.rejects(store.writeBlob('hellO', { digest: sha256Digest('hello2') }), DigestMismatchError);
    await assert.rejects(store.writeBlob('too long', { digest: sha256Digest('too long'), size: 3 }), /expected 3 bytes/);
    assert.deepEqual(await readdir(store.blobDir), [good.digest.slice(7)]);
    assert.deepEqual(await readdir(store.tmpDir), []);
    // A stream that fails mid-way stores nothing either.
    async function* failing() {
      yield Buffer.from('partial');
      throw new Error('connection lost');
    }
    await assert.rejects(store.writeBlob(failing()), /connection lost/);
    assert.deepEqual(await readdir(store.tmpDir), []);
    assert.deepEqual(await checkStore(root), []);
  }));

test('resolve by name, short name, image id and manifest digest; gc keeps leased blobs', () =>
  withRoot(async (root) => {
    const store = await Store.open(root);
    const a = await addImage(store, 'docker.io/library/busybox:latest');
    const img = await store.resolve('busybox');
    assert.equal(img.name, 'docker.io/library/busybox:latest');
    assert.equal(img.layers.length, 1);
    assert.equal((await store.resolve(a.config.digest.slice(7, 19))).name, img.name);
    assert.equal((await store.resolve(a.manifest.digest)).name, img.name);
    await assert.rejects(store.resolve('nothere'), ImageNotFoundError);
    // A blob no ref needs goes, unless a live process leased it.
    const orphan = await store.writeBlob('orphan');
    const lease = await store.lease([orphan.digest]);
    assert.deepEqual((await store.gc()).removed, []);
    await lease.release();
    // A lease also keeps blobs written after it began (digests not yet known to it).
    const later = await store.withLease(async () => {
      const b = await store.writeBlob('written under a lease');
      assert.ok(!(await store.gc()).removed.includes(b.digest));
      return b;
    });
    assert.ok((await store.gc()).removed.includes(later.digest));
    assert.ok(!(await store.hasBlob(orphan.digest)));
    assert.equal(await store.removeRef('docker.io/library/busybox:latest'), true);
    assert.equal((await store.gc()).removed.length, 3);
    assert.deepEqual(await checkStore(root), []);
  }));

/** A process holding the store lock until killed. */
async function lockHolder(root) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    const { withStoreLock } = await import(${JSON.stringify(LOCK_URL)});
    await withStoreLock(${JSON.stringify(root)}, () => {
      process.stdout.write('locked\\n');
      return new Promise(() => setInterval(() => {}, 1000));
    });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  return child;
}

test('store lock: exclusive, and released by the kernel when its holder is killed -9', () =>
  withRoot(async (root) => {
    const child = await lockHolder(root);
    try {
      let acquired = false;
      const waiting = withStoreLock(root, async () => {
        acquired = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(acquired, false, 'lock must be exclusive while the holder lives');
      const t0 = Date.now();
      child.kill('SIGKILL');
      await waiting;
      assert.ok(Date.now() - t0 < 2000, 'waiter wakes promptly once the holder dies');
    } finally {
      child.kill('SIGKILL');
    }
  }));

test('store lock: nobody cannot squat it; ref updates go on', { timeout: 60000 }, () =>
  withRoot(async (root) => {
    // A store any user can reach, so only the lock itself stands in the way.
    await chmod(root, 0o755);
    const store = await Store.open(root);
    await addImage(store, 'before');
    // The abstract socket name the store lock used to be (any user can bind it first).
    const oldName = '\0rocker-image-lock/' + createHash('sha256').update(await realpath(root)).digest('hex').slice(0, 40);
    const { child, report } = await squatAsNobody({ names: [oldName], file: join(root, 'lock') });
    try {
      await addImage(store, 'after');
      assert.deepEqual((await store.listRefs()).map((r) => r.name).sort(), ['after', 'before']);
      assert.equal(report.open, 'EACCES', 'only root may open the lock file');
      const st = await stat(join(root, 'lock'));
      assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600]);
    } finally {
      child.kill('SIGKILL');
    }
  }));

test('concurrent index updates from several processes lose nothing', () =>
  withRoot(async (root) => {
    const store = await Store.open(root);
    const { manifest } = await addImage(store, 'base');
    const desc = JSON.stringify({ mediaType: MT.ociManifest, ...manifest });
    const procs = [0, 1, 2, 3].map((p) =>
      spawn(process.execPath, ['--input-type=module', '-e', `
        const { Store } = await import(${JSON.stringify(STORE_URL)});
        const s = await Store.open(${JSON.stringify(root)});
        await Promise.all(Array.from({ length: 10 }, (_, i) => s.setRef('p${p}-' + i, ${desc})));`], { stdio: 'inherit' }),
    );
    const codes = await Promise.all(procs.map((c) => once(c, 'exit').then(([code]) => code)));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const names = (await store.listRefs()).map((r) => r.name);
    assert.equal(names.length, 41);
    assert.deepEqual(await checkStore(root), []);
  }));

test('temp files of dead processes are removed on open; a live one is kept', () =>
  withRoot(async (root) => {
    await Store.open(root);
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    await writeFile(join(root, 'tmp', `${dead.pid}-1-abc`), 'partial blob');
    await writeFile(join(root, 'tmp', 'garbage'), 'x');
    const store = await Store.open(root);
    assert.deepEqual(await readdir(store.tmpDir), []);
    const w = await store.createBlobWriter();
    await w.write(Buffer.from('in flight'));
    await Store.open(root);
    assert.equal((await readdir(store.tmpDir)).length, 1, 'a live writer keeps its temp file');
    await w.abort();
    // A damaged index.json (which no crash can produce) is reported, never emptied.
    await writeFile(join(root, 'index.json'), '{"schemaVersion": 2, "manif');
    const damaged = await Store.open(root);
    await assert.rejects(damaged.listRefs(), /index\.json: damaged/);
    await assert.rejects(damaged.setRef('x', { mediaType: MT.ociManifest, digest: sha256Digest('x'), size: 1 }), /damaged/);
  }));
