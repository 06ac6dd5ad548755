// Image benchmarks against Debian's docker-registry on loopback (the test
// fixtures): rocker-image pull vs `skopeo copy docker://… oci:…`, bundle from an
// already-pulled image vs `umoci unpack`, and both together, for a small
// (busybox) image, a large one of several incompressible layers, and one of
// real file trees of this host (tens of thousands of files). The large layouts
// are built once by umoci and cached between runs (BENCH_CACHE).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry.mjs';
import { buildTestLayout, pushImage } from '../test/helpers/images.mjs';
import { sample, timeOnce } from './lib/stats.mjs';

const IMAGE_BIN = fileURLToPath(new URL('../bin/rocker-image', import.meta.url));
const CACHE = process.env.BENCH_CACHE ?? '/var/tmp/rocker-bench-cache';

export const IMAGES = [
  { name: 'busybox', noiseBytes: 512 * 1024, noiseLayers: 1 },
  // 4 x 56 MiB of random bytes on top of busybox: ~225 MiB, 6 layers.
  { name: 'large', noiseBytes: 56 * 1024 * 1024, noiseLayers: 4 },
  // Debian's own files, a layer per tree, on top of busybox: ~200 MiB, ~34,000 files (man pages
  // with their symlinks, C headers, Python's library), 4 layers. Creating that many files takes
  // both tools seconds, so one sample each and no warm-up keep the image part within minutes.
  { name: 'trees', trees: ['/usr/share/man', '/usr/include', '/usr/lib/python3.11'], maxRuns: 1 },
];

/** A layer per host tree (same path in the image) on top of busybox, by umoci. */
function buildTreeLayout(parent, trees) {
  const image = `${join(parent, 'layout')}:amd64`;
  const umoci = (...args) => execFileSync('umoci', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  umoci('init', '--layout', join(parent, 'layout'));
  umoci('new', '--image', image);
  umoci('insert', '--image', image, '/bin/busybox', '/bin/busybox');
  for (const tree of trees) umoci('insert', '--image', image, tree, tree);
  umoci('config', '--image', image, '--config.cmd', '/bin/busybox', '--config.cmd', 'sh', '--os', 'linux', '--architecture', 'amd64');
}

/**
 * What the image holds: `bytes` of content (random bytes, or the trees' file
 * sizes), its `layers`, and for trees their `files` (entries).
 */
function contentSize(image, layout) {
  const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${layout.dir}:amd64`], { encoding: 'utf8' }));
  if (!image.trees) return { kind: 'random', bytes: image.noiseBytes * image.noiseLayers, layers: manifest.layers.length };
  const du = execFileSync('du', ['-sbc', ...image.trees], { encoding: 'utf8' }).trim().split('\n').at(-1);
  // One byte per entry: a list of ~34,000 paths would overflow execFileSync's buffer.
  const files = execFileSync('find', [...image.trees, '-printf', '.'], { maxBuffer: 64 << 20 }).length;
  return { kind: 'files', bytes: Number(du.split('\t')[0]), layers: manifest.layers.length, files };
}

const cacheName = (image) => (image.trees ? `${image.name}-${image.trees.map((t) => t.replaceAll('/', '_')).join('')}` : `${image.name}-${image.noiseLayers}x${image.noiseBytes}`);

/** The image's OCI layout, built by umoci into the cache once (built in a temp dir, then renamed). */
async function cachedLayout(image) {
  const dir = join(CACHE, cacheName(image));
  if (!existsSync(join(dir, 'layout', 'index.json'))) {
    mkdirSync(CACHE, { recursive: true });
    const tmp = mkdtempSync(join(CACHE, '.build-'));
    if (image.trees) buildTreeLayout(tmp, image.trees);
    else await buildTestLayout(tmp, image);
    rmSync(join(tmp, 'files'), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return { dir: join(dir, 'layout'), refs: { amd64: 'amd64', multi: 'multi' } };
}

/** Every comparison for every image; `runs` timed samples after one warm-up each. */
export async function benchImages(runs) {
  const work = mkdtempSync(join(tmpdir(), 'rocker-bench-images-'));
  const prevDockerConfig = process.env.DOCKER_CONFIG;
  process.env.DOCKER_CONFIG = join(work, 'docker');
  const registry = await startRegistry();
  const results = [];
  let seq = 0;
  const fresh = () => join(work, `t${seq++}`);
  try {
    for (const image of IMAGES) {
      const layout0 = await cachedLayout(image);
      await pushImage(layout0, 'amd64', registry.host, `bench/${image.name}:latest`);
      const ref = `${registry.host}/bench/${image.name}:latest`;
      const rockerImage = (store, ...args) => [process.execPath, IMAGE_BIN, '--root', store, '-q', ...args];
      const pull = (store) => rockerImage(store, 'pull', ref);
      const bundle = (store, dir) => rockerImage(store, 'bundle', ref, dir);
      const unbundle = (store, dir) => timeOnce(rockerImage(store, 'unbundle', dir));
      const skopeo = (layout) => ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:bench`];
      const umoci = (layout, dir) => ['umoci', 'unpack', '--image', `${layout}:bench`, dir];
      const gone = (...paths) => paths.forEach((p) => rmSync(p, { recursive: true, force: true }));

      const n = Math.min(runs, image.maxRuns ?? runs);
      const warmup = image.maxRuns ? 0 : 1;
      const r = { image: image.name, ...contentSize(image, layout0) };
      r.pull = {
        rocker: sample(n, () => { const s = fresh(); const ms = timeOnce(pull(s)); gone(s); return ms; }, warmup),
        skopeo: sample(n, () => { const l = fresh(); const ms = timeOnce(skopeo(l)); gone(l); return ms; }, warmup),
      };
      // From an image already in the store / layout: each side's own first step done once, untimed.
      const store = fresh();
      const layout = fresh();
      timeOnce(pull(store));
      timeOnce(skopeo(layout));
      // The first bundle of a freshly pulled image (layer snapshots made now, if pull left them).
      const first = fresh();
      r.firstBundleMs = timeOnce(bundle(store, first));
      unbundle(store, first);
      r.bundle = {
        rocker: sample(n, () => { const b = fresh(); const ms = timeOnce(bundle(store, b)); unbundle(store, b); return ms; }, warmup),
        umoci: sample(n, () => { const b = fresh(); const ms = timeOnce(umoci(layout, b)); gone(b); return ms; }, warmup),
        // A plain directory, every layer applied, like umoci's.
        flat: sample(n, () => { const b = fresh(); const ms = timeOnce(rockerImage(store, 'bundle', '--flat', ref, b)); unbundle(store, b); return ms; }, warmup),
      };
      gone(store, layout);
      r.pullBundle = {
        rocker: sample(n, () => {
          const s = fresh();
          const b = fresh();
          const ms = timeOnce(pull(s)) + timeOnce(bundle(s, b));
          unbundle(s, b);
          gone(s);
          return ms;
        }, warmup),
        skopeoUmoci: sample(n, () => {
          const l = fresh();
          const b = fresh();
          const ms = timeOnce(skopeo(l)) + timeOnce(umoci(l, b));
          gone(l, b);
          return ms;
        }, warmup),
      };
      results.push(r);
    }
  } finally {
    await registry.stop();
    if (prevDockerConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = prevDockerConfig;
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}
