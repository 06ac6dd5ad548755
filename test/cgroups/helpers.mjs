// Shared by the cgroups tests: unique cgroup names, processes to place in cgroups,
// and reading cgroupfs back. Everything made here is removed by cleanup().
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const dist = new URL('../../dist/', import.meta.url);
export const cg = await import(new URL('runtime/cgroups/index.js', dist));

/** A top-level test cgroup name unique to this test process. */
export const TOP = `rocker-cgtest-${process.pid}`;
let counter = 0;
export const uniquePath = (label) => `/${TOP}/${label}-${++counter}`;

const children = new Set();
const managers = new Set();

/** Starts `sh -c script` that waits for one line on stdin before running the script (so it can be placed first). */
export async function gatedShell(script) {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  children.add(child);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.go = () => child.stdin.write('go\n');
  return child;
}

/** A manager that cleanup() destroys. */
export async function open(label, extra = {}) {
  const m = await cg.openCgroupManager({ id: `${label}-${process.pid}`, systemd: false, cgroupsPath: uniquePath(label), ...extra });
  managers.add(m);
  return m;
}

export const read = (dir, file) => readFileSync(join(dir, file), 'utf8').trim();

export async function waitFor(check, what, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every hierarchy's directory for the test's top cgroup. */
export function topDirs() {
  return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, TOP));
}

/** Every cgroup this test process named (TOP and TOP-*), in every hierarchy. */
function ownTestCgroups() {
  return readdirSync('/sys/fs/cgroup').flatMap((h) =>
    readdirSync(join('/sys/fs/cgroup', h))
      .filter((name) => name === TOP || name.startsWith(`${TOP}-`))
      .map((name) => join('/sys/fs/cgroup', h, name)),
  );
}

function removeTree(dir) {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
  rmdirSync(dir);
}

export async function cleanup() {
  // A frozen task only dies once thawed.
  for (const m of managers) await m.thaw().catch(() => {});
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await c.exited;
  }
  children.clear();
  for (const m of managers) {
    // The shells' children (cat, tail, sleep) are in the cgroup too.
    const left = await m.pids().catch(() => []);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    if (left.length) await waitFor(async () => (await m.pids()).length === 0, 'the cgroup to empty');
    await m.destroy();
  }
  managers.clear();
  for (const d of ownTestCgroups()) removeTree(d);
}

export const RUNTIME = new URL('../../bin/rocker-runtime', import.meta.url).pathname;

/** Runs rocker-runtime; resolves {code, stdout, stderr}. */
export function runtime(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNTIME, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    // A command that reads no input may exit before the pipe is closed: EPIPE is not a failure.
    child.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    child.stdin.end(input ?? '');
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Start time (field 22 of /proc/<pid>/stat) that state.json records for the init. */
export function startTime(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
}

/**
 * Starts `rocker-runtime events` streaming; `firstLine` resolves at its first
 * line (so its OOM baseline is taken), `saw(text)` once the output has `text`,
 * `done` with {code, events} at its exit.
 */
export function streamEvents(args) {
  const child = spawn(process.execPath, [RUNTIME, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let first;
  const firstLine = new Promise((resolve) => (first = resolve));
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    if (out.includes('\n')) first();
    for (const w of waiters) if (out.includes(w.text)) w.resolve();
  });
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const done = new Promise((resolve) =>
    child.on('close', (code) => {
      first();
      resolve({ code, stderr: err, events: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) });
    }),
  );
  /** Resolves once the output contains `text`; rejects after `ms`. */
  const saw = (text, ms = 15000) =>
    new Promise((resolve, reject) => {
      if (out.includes(text)) return resolve();
      const timer = setTimeout(() => reject(new Error(`events printed no ${text} in ${ms} ms: ${out}`)), ms);
      waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { firstLine, done, saw, stop: () => child.kill() };
}
