// Quick side-by-side timing while working on performance: runs each command in
// turn (interleaved, so load swings hit all of them alike) and prints, per
// command, the median and the minimum wall time (the minimum is the steadier
// figure for start-up costs on a busy 2-core machine).
//   node bench/compare.mjs [-n RUNS] -- 'CMD ARGS…' 'CMD ARGS…' …
// Commands are split on spaces; a command that fails is reported, not retried.
import { spawnSync } from 'node:child_process';
import { median } from './lib/stats.mjs';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) throw new Error("usage: compare.mjs [-n RUNS] -- 'CMD…' …");
const runsAt = argv.indexOf('-n');
const runs = runsAt >= 0 && runsAt < sep ? Number(argv[runsAt + 1]) : 40;
const commands = argv.slice(sep + 1).map((c) => c.split(' ').filter(Boolean));
const samples = commands.map(() => ({ wall: [], failed: 0 }));
for (let i = 0; i < runs + 2; i++) {
  commands.forEach((cmd, j) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore' });
    if (r.status !== 0) samples[j].failed++;
    if (i >= 2) samples[j].wall.push(Number(process.hrtime.bigint() - t0) / 1e6); // two warm-ups
  });
}
const fmt = (x) => x.toFixed(1).padStart(7);
console.log(' median    min  command');
commands.forEach((cmd, j) => {
  const s = samples[j];
  const note = s.failed ? `  (exited non-zero ${s.failed}x)` : '';
  console.log(`${fmt(median(s.wall))}${fmt(Math.min(...s.wall))}  ${cmd.join(' ')}${note}`);
});
