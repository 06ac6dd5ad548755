// Lifecycle benchmarks for one runtime. Usage:
//   node bench/lifecycle.mjs NAME RUNS -- RUNTIME-ARGV...
// Prints one JSON object with the median of every operation. bench/run.mjs
// starts it directly, or inside `unshare -m` for crun (which refuses hybrid cgroups).
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { median, sample, timeOnce } from './lib/stats.mjs';
import { makeBusyboxBundle } from '../test/helpers/busybox-bundle.mjs';

const [name, runsText, sep, ...runtime] = process.argv.slice(2);
if (sep !== '--' || runtime.length === 0) throw new Error('usage: lifecycle.mjs NAME RUNS -- RUNTIME...');
const runs = Number(runsText);
const work = mkdtempSync(join(tmpdir(), `bench-${name}-`));
const root = join(work, 'state');
const rt = (...args) => [...runtime, '--root', root, ...args];
const trueBundle = makeBusyboxBundle(join(work, 'true'));
const sleepBundle = makeBusyboxBundle(join(work, 'sleep'), ['/bin/sleep', '1000']);
let seq = 0;
const nextId = () => `bench-${name}-${process.pid}-${seq++}`;

function statusOf(id) {
  const r = spawnSync(rt('state', id)[0], rt('state', id).slice(1));
  return r.status === 0 ? JSON.parse(r.stdout).status : 'gone';
}
function waitStopped(id) {
  // Untimed: the container's exit after SIGKILL is asynchronous.
  while (statusOf(id) !== 'stopped') spawnSync('sleep', ['0.005']);
}

const result = { name, runtime: runtime.join(' '), ops: {} };
try {
  // `node -e 0` is sampled between the runtime's own commands, so the floor and
  // the runtime see the same load (this host is shared; its load swings).
  const floor = [];
  result.ops.run = sample(runs, () => {
    floor.push(timeOnce(['node', '-e', '0']));
    return timeOnce(rt('run', '--bundle', trueBundle, nextId()));
  });

  const split = { create: [], start: [], state: [], exec: [], kill: [], delete: [] };
  for (let i = -2; i < runs; i++) {
    const id = nextId();
    const t = {
      create: timeOnce(rt('create', '--bundle', sleepBundle, id)),
      start: timeOnce(rt('start', id)),
      state: timeOnce(rt('state', id)),
      exec: timeOnce(rt('exec', id, '/bin/true')),
      kill: timeOnce(rt('kill', id, 'KILL')),
    };
    waitStopped(id);
    t.delete = timeOnce(rt('delete', id));
    if (i >= 0) for (const k of Object.keys(split)) split[k].push(t[k]);
    if (i >= 0) floor.push(timeOnce(['node', '-e', '0']));
  }
  result.nodeFloor = { median: median(floor), min: Math.min(...floor), max: Math.max(...floor), runs: floor.length };
  for (const [op, xs] of Object.entries(split)) {
    const s = [...xs].sort((a, b) => a - b);
    result.ops[op] = { median: s[s.length >> 1], min: s[0], max: s[s.length - 1], runs };
  }

  result.parallel50 = await parallelCreateStart(50);
} finally {
  spawnSync('sh', ['-c', `for id in $(${rt('list', '-q').join(' ')} 2>/dev/null); do ${rt('delete', '--force').join(' ')} $id; done`]);
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');

/** 50 containers created and started at once: wall time and the runtime processes' peak RSS. */
async function parallelCreateStart(n) {
  const ids = Array.from({ length: n }, nextId);
  const peaks = [];
  // The containers inherit the runtime's stdio, so completion is the runtime's exit
  // (not EOF on its pipes); GNU time reports the peak RSS into a file.
  const timed = (args) =>
    new Promise((resolve, reject) => {
      const out = join(work, `rss-${seq++}`);
      const argv = ['/usr/bin/time', '-f', '%M', '-o', out, ...rt(...args)];
      const p = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      p.on('exit', (code) => {
        if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}`));
        peaks.push(Number(readFileSync(out, 'utf8').trim().split('\n').pop()));
        resolve();
      });
    });
  const t0 = process.hrtime.bigint();
  await Promise.all(ids.map((id) => timed(['create', '--bundle', sleepBundle, id]).then(() => timed(['start', id]))));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const id of ids) spawnSync(rt('delete', '--force', id)[0], rt('delete', '--force', id).slice(1));
  return { containers: n, wallMs, peakRssKiB: Math.max(...peaks), sumPeakRssKiB: peaks.reduce((a, b) => a + b, 0) };
}
