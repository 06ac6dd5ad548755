// Bundle benchmark: `rocker-image bundle` of a stored image against
// `umoci unpack` of the same image (the test fixture's busybox + random layer),
// a fresh target each run. rocker is timed cold (no snapshots yet: every layer
// unpacked, then the overlay mounted), warm (snapshots present: only the mount
// and config.json) and --flat (every layer applied to one directory, like umoci).
// Usage: node bench/bundle.mjs [RUNS] [EXTRA-LAYER-MB]
// Prints a summary, then one JSON line { name: 'bundle', cold, warm, flat, umoci, ratios }.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTestLayout } from '../test/helpers/images.mjs';
import { sample, timeOnce } from './lib/stats.mjs';

const BIN = fileURLToPath(new URL('../bin/rocker-image', import.meta.url));
const runs = Number(process.argv[2] ?? 9);
const noiseMB = Number(process.argv[3] ?? 8);

const work = await mkdtemp(join(tmpdir(), 'rocker-bench-bundle-'));
try {
  const layout = await buildTestLayout(work, { noiseBytes: Math.round(noiseMB * 1024 * 1024) });
  const store = layout.dir; // an OCI layout is a rocker-image store
  const image = layout.refs.amd64;
  const rocker = (...args) => [process.execPath, BIN, '--root', store, ...args];
  const unbundle = (dir) => execFileSync(process.execPath, [BIN, '--root', store, 'unbundle', dir]);
  const bundleRun = (flags, dropSnapshots) => (i) => {
    if (dropSnapshots) rmSync(join(store, 'snapshots'), { recursive: true, force: true });
    const dir = join(work, `b${i}`);
    const ms = timeOnce(rocker('bundle', ...flags, image, dir));
    unbundle(dir);
    return ms;
  };
  const cold = sample(runs, bundleRun([], true), 1);
  const warm = sample(runs, bundleRun([], false), 1);
  const flat = sample(runs, bundleRun(['--flat'], false), 1);
  const umoci = sample(
    runs,
    (i) => {
      const dir = join(work, `u${i}`);
      const ms = timeOnce(['umoci', 'unpack', '--image', `${store}:${image}`, dir]);
      rmSync(dir, { recursive: true, force: true });
      return ms;
    },
    1,
  );
  const ratios = { cold: cold.median / umoci.median, warm: warm.median / umoci.median, flat: flat.median / umoci.median };
  console.log(`bundle of busybox + ${noiseMB} MB random layer, median of ${runs}:`);
  console.log(`  rocker-image bundle: cold ${cold.median.toFixed(0)} ms, warm ${warm.median.toFixed(0)} ms, --flat ${flat.median.toFixed(0)} ms`);
  console.log(`  umoci unpack ${umoci.median.toFixed(0)} ms; ratios cold ${ratios.cold.toFixed(2)}, warm ${ratios.warm.toFixed(2)}, flat ${ratios.flat.toFixed(2)}`);
  console.log(JSON.stringify({ name: 'bundle', image: `busybox+${noiseMB}MB`, cold, warm, flat, umoci, ratios }));
} finally {
  await rm(work, { recursive: true, force: true });
}
