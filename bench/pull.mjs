// Pull benchmark: `rocker-image pull` against `skopeo copy docker://… oci:…`
// for the same image from the same loopback registry (the test fixtures), a
// fresh target each run. Usage:
//   node bench/pull.mjs [RUNS] [EXTRA-LAYER-MB]
// Prints a summary, then one JSON line { name: 'pull', rocker, skopeo, ratio }.
import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry.mjs';
import { buildTestLayout, pushImage } from '../test/helpers/images.mjs';
import { sample, timeOnce } from './lib/stats.mjs';

const BIN = fileURLToPath(new URL('../bin/rocker-image', import.meta.url));
const runs = Number(process.argv[2] ?? 9);
const noiseMB = Number(process.argv[3] ?? 0.5);

const work = await mkdtemp(join(tmpdir(), 'rocker-bench-pull-'));
process.env.DOCKER_CONFIG = join(work, 'docker');
const registry = await startRegistry();
try {
  const layout = await buildTestLayout(work, { noiseBytes: Math.round(noiseMB * 1024 * 1024) });
  await pushImage(layout, 'amd64', registry.host, 'bench/busybox:latest');
  const ref = `${registry.host}/bench/busybox:latest`;
  const fresh = (argv, target) => {
    const ms = timeOnce(argv);
    rmSync(target, { recursive: true, force: true });
    return ms;
  };
  const rocker = sample(runs, (i) => fresh([process.execPath, BIN, '--root', join(work, `r${i}`), '-q', 'pull', ref], join(work, `r${i}`)), 1);
  const skopeo = sample(runs, (i) => fresh(['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(work, `s${i}`)}:bench`], join(work, `s${i}`)), 1);
  const ratio = rocker.median / skopeo.median;
  console.log(`pull of busybox + ${noiseMB} MB random layer from ${registry.host}, median of ${runs}:`);
  console.log(`  rocker-image pull ${rocker.median.toFixed(0)} ms, skopeo copy ${skopeo.median.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);
  console.log(JSON.stringify({ name: 'pull', image: `busybox+${noiseMB}MB`, rocker, skopeo, ratio }));
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
