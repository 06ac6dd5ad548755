// Measuring helpers for the benchmarks: wall-clock samples of whole commands, medians,
// a process's resident memory.
import { spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const errFile = join(tmpdir(), `bench-stderr-${process.pid}`);
process.on('exit', () => rmSync(errFile, { force: true }));

/**
 * Runs argv once and returns milliseconds; throws with its stderr when it fails.
 * Output goes to files, not pipes: a container inherits the runtime's stdio, and
 * waiting for EOF on a pipe would wait for the container.
 */
export function timeOnce(argv) {
  const err = openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', err] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(err);
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${readFileSync(errFile, 'utf8')}`.slice(0, 2000));
  }
  return ms;
}

/** `runs` timed samples of step(i) (which returns ms), after `warmup` untimed ones. */
export function sample(runs, step, warmup = 2) {
  for (let i = 0; i < warmup; i++) step(-1 - i);
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(step(i));
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs };
}

/** A process's resident set in KiB, from /proc/<pid>/status. */
/** Proportional set size: shared pages (one binary's code in many processes) split among their users. */
export const pssKiB = (pid) => Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]);
export const rssKiB = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
