// Benchmark: `rocker-image pull` against `skopeo copy docker://… oci:…` for the
// same image from the same loopback registry (test fixtures), fresh target
// each run. Prints the median of each and the ratio (rocker / skopeo).
//   node bench/pull.mjs [runs] [extra-layer-MB]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry.mjs';
import { buildTestLayout, pushImage } from '../test/helpers/images.mjs';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/rocker-image', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const noiseMB = Number(process.argv[3] ?? 0.5);

async function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const work = await mkdtemp(join(tmpdir(), 'rocker-bench-pull-'));
const registry = await startRegistry();
try {
  const layout = await buildTestLayout(work, { noiseBytes: Math.round(noiseMB * 1024 * 1024) });
  await pushImage(layout, 'amd64', registry.host, 'bench/busybox:latest');
  const ref = `${registry.host}/bench/busybox:latest`;
  const rocker = [];
  const skopeo = [];
  for (let i = 0; i < runs; i++) {
    const root = join(work, `rocker-${i}`);
    rocker.push(await timeIt(() => run(process.execPath, [BIN, '--root', root, '-q', 'pull', ref], { env: { ...process.env, DOCKER_CONFIG: join(work, 'docker') } })));
    const dir = join(work, `skopeo-${i}`);
    skopeo.push(await timeIt(() => run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:bench`])));
    await rm(root, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
  const r = median(rocker);
  const s = median(skopeo);
  console.log(`pull ${ref}: busybox + ${noiseMB} MB random layer (${runs} runs, median)`);
  console.log(`  rocker-image pull : ${r.toFixed(0)} ms`);
  console.log(`  skopeo copy       : ${s.toFixed(0)} ms`);
  console.log(`  ratio rocker/skopeo: ${(r / s).toFixed(2)}`);
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
