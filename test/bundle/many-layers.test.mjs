// A pull's memory must not grow with the layer count: the peak RSS of pulling
// (and unpacking) an image of MANY tiny layers stays within a fixed margin of
// pulling one of FEW; and the pulled image bundles with every layer in place.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { seedRegistry, startRegistry } from '../helpers/registry.mjs';
import { checkStore } from '../helpers/store-check.mjs';
import { writeManyLayerImage } from './fixture-image.mjs';
import { mountsUnder, rockerImageOk } from './cli.mjs';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/rocker-image', import.meta.url));
const FEW = 100;
const MANY = 1000;
/** What MANY layers may add to the peak RSS of FEW: far less than a copy of the state of every layer. */
const MARGIN_KB = 64 * 1024;

let dir;
let registry;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-many-layers-'));
  registry = await startRegistry();
});

after(async () => {
  for (const m of mountsUnder(dir)) execFileSync('umount', [m]);
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Pulls an image of `count` layers into a fresh store; returns the store and the pull's peak RSS in KiB. */
async function pullLayers(count) {
  const layout = join(dir, `layout-${count}`);
  writeManyLayerImage(layout, 't', count);
  await seedRegistry(registry, layout, 't', `many${count}`, 'latest');
  const root = join(dir, `store-${count}`);
  // Asynchronously: the registry's log pipe is drained by this process's event loop.
  const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, BIN, '--root', root, '-q', 'pull', `${registry.host}/many${count}:latest`]);
  const rss = Number(/maxrss=(\d+)/.exec(stderr)?.[1]);
  assert.ok(rss > 0, stderr);
  return { root, rss };
}

test(`pulling ${MANY} layers peaks at the memory of pulling ${FEW}; every snapshot is in before the ref`, { timeout: 900_000 }, async (t) => {
  const few = await pullLayers(FEW);
  const many = await pullLayers(MANY);
  t.diagnostic(`peak RSS: ${few.rss} KiB for ${FEW} layers, ${many.rss} KiB for ${MANY}`);
  assert.ok(many.rss < few.rss + MARGIN_KB, `peak RSS ${many.rss} KiB for ${MANY} layers vs ${few.rss} KiB for ${FEW}`);
  assert.deepEqual(await checkStore(many.root), []);
  assert.equal(readdirSync(join(many.root, 'snapshots')).length, MANY);
  const bundle = join(dir, 'bundle');
  // Too many lowers for one overlay mount: --flat applies them all.
  await rockerImageOk(many.root, 'bundle', '--flat', `${registry.host}/many${MANY}:latest`, bundle);
  assert.equal(readdirSync(join(bundle, 'rootfs', 'layers')).length, MANY);
  assert.ok(existsSync(join(bundle, 'rootfs', 'layers', String(MANY - 1))));
  await rockerImageOk(many.root, 'unbundle', bundle);
});
