// `make bench`: every runtime and image-tool comparison in one run, medians and
// ratios, written to bench/results/<time>.json and summarised in docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { sample, timeOnce } from './lib/stats.mjs';
import { makeBusyboxBundle } from '../test/helpers/busybox-bundle.mjs';
import { benchImages } from './images.mjs';
import { benchFront } from './front.mjs';
import { benchShim, shimTable } from './shim.mjs';
import { lifecycleCheck } from '../test/helpers/lifecycles.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const IMAGE_RUNS = Number(process.env.BENCH_IMAGE_RUNS ?? 3);
const LIFECYCLES = Number(process.env.BENCH_LIFECYCLES ?? 1000);
const FRONT_RUNS = Number(process.env.BENCH_FRONT_RUNS ?? 5);
const SHIM_RUNS = Number(process.env.BENCH_SHIM_RUNS ?? 7);
const SHIM_PARALLEL_RUNS = Number(process.env.BENCH_SHIM_PARALLEL_RUNS ?? 3);
const rocker = ['node', join(repo, 'bin/rocker-runtime')];

function lifecycle(name, runtime, { hybridFree = false } = {}) {
  const script = ['node', join(here, 'lifecycle.mjs'), name, String(RUNS), '--', ...runtime];
  // crun refuses hybrid cgroups: run it (and runc once more, for fairness) in a
  // private mount namespace without the cgroup2 mount.
  const argv = hybridFree
    ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'umount /sys/fs/cgroup/unified && exec "$@"', 'sh', ...script]
    : script;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) return { name, error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const machine = {
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  runc: spawnSync('runc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
  crun: spawnSync('crun', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
};

const runtimes = [
  lifecycle('rocker', rocker),
  lifecycle('runc', ['runc']),
  lifecycle('runc-unshared', ['runc'], { hybridFree: true }),
  lifecycle('crun-unshared', ['crun'], { hybridFree: true }),
];

/** `run` of echo under a 1 MiB memory limit: does the runtime's own memory count against it? */
function memoryFloor(runtime) {
  const work = mkdtempSync(join(tmpdir(), 'bench-memfloor-'));
  try {
    const bundle = makeBusyboxBundle(join(work, 'b'), ['/bin/echo', 'ok']);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.linux.resources = { ...config.linux.resources, memory: { limit: 1024 * 1024 } };
    config.linux.cgroupsPath = `/bench-memfloor-${process.pid}`;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const r = spawnSync(runtime[0], [...runtime.slice(1), '--root', join(work, 'state'), 'run', '--bundle', bundle, `memfloor-${process.pid}`], { encoding: 'utf8' });
    return { ok: r.status === 0 && r.stdout === 'ok\n', error: r.status === 0 ? undefined : r.stderr.trim().slice(-200) };
  } finally {
    spawnSync(runtime[0], [...runtime.slice(1), '--root', join(work, 'state'), 'delete', '--force', `memfloor-${process.pid}`]);
    rmSync(work, { recursive: true, force: true });
  }
}
const memory = { rocker: memoryFloor(rocker), runc: memoryFloor(['runc']) };

/** LIFECYCLES sequential runs, and whether state dir, cgroups, mounts and fds are as before. */
function lifecycles() {
  const work = mkdtempSync(join(tmpdir(), 'bench-lifecycles-'));
  try {
    const r = lifecycleCheck({ runtime: rocker, work, n: LIFECYCLES });
    const clean = JSON.stringify(r.after) === JSON.stringify(r.before) && r.containerFds.size === 1;
    return { n: r.n, ms: r.ms, clean, before: r.before, after: r.after, containerFds: [...r.containerFds] };
  } catch (e) {
    return { n: LIFECYCLES, error: String(e.message).slice(0, 300) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const sequential = lifecycles();
const images = await benchImages(IMAGE_RUNS);
const front = await benchFront(FRONT_RUNS);
const shim = await benchShim(SHIM_RUNS, SHIM_PARALLEL_RUNS);

const ops = ['run', 'create', 'start', 'state', 'kill', 'delete', 'exec'];
const byName = Object.fromEntries(runtimes.map((r) => [r.name, r]));
// Sampled interleaved with rocker's commands (bench/lifecycle.mjs): the same load.
const nodeFloor = byName.rocker.nodeFloor ?? sample(RUNS, () => timeOnce(['node', '-e', '0']));
const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
const rows = ops.map((op) => {
  const r = byName.rocker.ops?.[op]?.median;
  const c = byName['crun-unshared'].ops?.[op]?.median;
  const overFloor = r === undefined ? undefined : r - nodeFloor.median;
  return {
    op,
    rocker: r,
    runc: byName.runc.ops?.[op]?.median,
    crun: c,
    rockerMinusNode: overFloor,
    target: overFloor !== undefined && c !== undefined ? overFloor <= c : undefined,
  };
});

const lines = [
  `node -e 0 median: ${fmt(nodeFloor.median)} ms (${nodeFloor.runs} runs, interleaved with rocker's)`,
  '',
  '| op | rocker ms | runc ms | crun ms | rocker - node ms | target (rocker - node <= crun) |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.op} | ${fmt(r.rocker)} | ${fmt(r.runc)} | ${fmt(r.crun)} | ${fmt(r.rockerMinusNode)} | ${r.target === undefined ? 'n/a' : r.target ? 'met' : 'MISSED'} |`),
  '',
  '| 50 parallel create+start | wall ms | peak RSS of one runtime process KiB | sum of peaks KiB |',
  '|---|---|---|---|',
  ...runtimes.map((r) =>
    r.parallel50
      ? `| ${r.name} | ${fmt(r.parallel50.wallMs)} | ${r.parallel50.peakRssKiB} | ${r.parallel50.sumPeakRssKiB} |`
      : `| ${r.name} | n/a | n/a | n/a |`,
  ),
];
const times = (them, us) => `${(them / us).toFixed(1)}x`;
lines.push(
  '',
  '| image | step | rocker-image ms | skopeo / umoci ms | rocker faster by | target |',
  '|---|---|---|---|---|---|',
  ...images.flatMap((im) => {
    const content = im.kind === 'files' ? `${Math.round(im.bytes / 2 ** 20)} MiB in ${im.files} files` : `${Math.round(im.bytes / 2 ** 20)} MiB random`;
    const size = `${im.image} (${content}, ${im.layers} layers)`;
    // The targets are about large images: every image of 200 MiB or more is held to them.
    const big = im.bytes >= 200 * 2 ** 20;
    return [
      `| ${size} | pull vs skopeo copy | ${fmt(im.pull.rocker.median)} | ${fmt(im.pull.skopeo.median)} | ${times(im.pull.skopeo.median, im.pull.rocker.median)} | |`,
      `| ${size} | first bundle after pull vs umoci unpack | ${fmt(im.firstBundleMs)} | ${fmt(im.bundle.umoci.median)} | ${times(im.bundle.umoci.median, im.firstBundleMs)} | |`,
      `| ${size} | bundle (already pulled) vs umoci unpack | ${fmt(im.bundle.rocker.median)} | ${fmt(im.bundle.umoci.median)} | ${times(im.bundle.umoci.median, im.bundle.rocker.median)} | ${big ? (im.bundle.umoci.median / im.bundle.rocker.median >= 50 ? 'met (>= 50x)' : 'MISSED (>= 50x)') : ''} |`,
      `| ${size} | bundle --flat (already pulled) vs umoci unpack | ${fmt(im.bundle.flat.median)} | ${fmt(im.bundle.umoci.median)} | ${times(im.bundle.umoci.median, im.bundle.flat.median)} | |`,
      `| ${size} | pull + bundle vs skopeo + umoci | ${fmt(im.pullBundle.rocker.median)} | ${fmt(im.pullBundle.skopeoUmoci.median)} | ${times(im.pullBundle.skopeoUmoci.median, im.pullBundle.rocker.median)} | ${big ? (im.pullBundle.skopeoUmoci.median / im.pullBundle.rocker.median >= 5 ? 'met (>= 5x)' : 'MISSED (>= 5x)') : ''} |`,
    ];
  }),
  '',
  `| ${FRONT_RUNS} runs, medians | run -d to first log line ms | monitor RSS per container KiB |`,
  '|---|---|---|',
  ...['rocker', 'podman (runc)', 'podman (rocker-runtime)'].map((n) => `| ${n} | ${fmt(front[n]?.firstLogMs)} | ${front[n]?.monitorRssKiB ?? 'n/a'} |`),
  ...(front.error ? [`front: FAILED: ${front.error}`] : []),
  '',
  ...shimTable(shim, SHIM_RUNS, SHIM_PARALLEL_RUNS),
  '',
  `1 MiB memory limit, run of echo: rocker ${memory.rocker.ok ? 'runs' : `FAILS (${memory.rocker.error})`}; runc ${memory.runc.ok ? 'runs' : `fails (${memory.runc.error})`}.`,
  sequential.error
    ? `${sequential.n} sequential lifecycles: FAILED: ${sequential.error}`
    : `${sequential.n} sequential lifecycles (run of ls /proc/self/fd): ${fmt(sequential.ms / 1000)} s; state dir, cgroups, mounts, caller fds and container fds ${sequential.clean ? 'back where they started' : 'NOT back where they started'}.`,
);
const errors = runtimes.filter((r) => r.error).map((r) => `- ${r.name}: ${r.error}`);
if (errors.length) lines.push('', 'Failures:', ...errors);
const table = lines.join('\n');
process.stdout.write(table + '\n');

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `${stamp}.json`), JSON.stringify({ machine, runs: RUNS, nodeFloor, runtimes, memory, sequential, images, shim }, null, 2));
const doc = join(repo, 'docs', 'benchmarks.md');
const intro = readFileSync(doc, 'utf8').split('<!-- results -->')[0];
writeFileSync(
  doc,
  `${intro}<!-- results -->\nLast run: ${new Date().toISOString()} on ${machine.cpus}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.runc}, ${machine.crun}.\n\n${table}\n`,
);
