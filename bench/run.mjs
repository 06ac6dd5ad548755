// `make bench`: every runtime and image-tool comparison in one run, medians and
// ratios, written to bench/results/<time>.json and summarised in docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { sample, timeOnce } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
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

const nodeFloor = sample(RUNS, () => timeOnce(['node', '-e', '0']));
const runtimes = [
  lifecycle('rocker', rocker),
  lifecycle('runc', ['runc']),
  lifecycle('runc-unshared', ['runc'], { hybridFree: true }),
  lifecycle('crun-unshared', ['crun'], { hybridFree: true }),
];

const ops = ['run', 'create', 'start', 'state', 'kill', 'delete', 'exec'];
const byName = Object.fromEntries(runtimes.map((r) => [r.name, r]));
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
  `node -e 0 median: ${fmt(nodeFloor.median)} ms (${RUNS} runs)`,
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
// Image-tool comparisons: each script prints a summary, then its result as one JSON line.
function imageBench(script) {
  const r = spawnSync('node', [join(here, script), String(RUNS)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) return { name: script, error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
const bundle = imageBench('bundle.mjs');
if (bundle.cold) {
  lines.push(
    '',
    `| rocker-image bundle (${bundle.image}) | cold ms | warm ms | --flat ms | umoci unpack ms | flat / umoci |`,
    '|---|---|---|---|---|---|',
    `| median | ${fmt(bundle.cold.median)} | ${fmt(bundle.warm.median)} | ${fmt(bundle.flat.median)} | ${fmt(bundle.umoci.median)} | ${bundle.ratios.flat.toFixed(2)} |`,
  );
}
const errors = [...runtimes, bundle].filter((r) => r.error).map((r) => `- ${r.name}: ${r.error}`);
if (errors.length) lines.push('', 'Failures:', ...errors);
const table = lines.join('\n');
process.stdout.write(table + '\n');

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `${stamp}.json`), JSON.stringify({ machine, runs: RUNS, nodeFloor, runtimes, bundle }, null, 2));
const doc = join(repo, 'docs', 'benchmarks.md');
const intro = readFileSync(doc, 'utf8').split('<!-- results -->')[0];
writeFileSync(
  doc,
  `${intro}<!-- results -->\nLast run: ${new Date().toISOString()} on ${machine.cpus}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.runc}, ${machine.crun}.\n\n${table}\n`,
);
