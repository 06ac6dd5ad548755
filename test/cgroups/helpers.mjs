// Shared by the cgroups tests: unique cgroup names, processes to place in cgroups,
// and reading cgroupfs back. Everything made here is removed by cleanup().
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { dirFor, hasIoWeightIn, hierarchyMounts, home, hugePageSizes, layout } from './layout.mjs';

export { dirFor, home, layout } from './layout.mjs';

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

/** How much slower than this host the tests run (TEST_SLOWDOWN, 10 in `make test-cgroup2`'s guest): waits scale by it. */
export const SLOWDOWN = Number(process.env.TEST_SLOWDOWN) || 1;

export async function waitFor(check, what, ms = 5000) {
  const end = Date.now() + ms * SLOWDOWN;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every hierarchy's directory for the test's top cgroup. */
export function topDirs() {
  return hierarchyMounts().map((h) => join(h, TOP));
}

/** Every cgroup this test process named (TOP and TOP-*), in every hierarchy. */
function ownTestCgroups() {
  return hierarchyMounts().flatMap((h) =>
    readdirSync(h)
      .filter((name) => name === TOP || name.startsWith(`${TOP}-`))
      .map((name) => join(h, name)),
  );
}

/** Moves `pid` into every directory of a container's cgroupPaths (what nsexec does for a container's init). */
export function place(paths, pid) {
  for (const dir of new Set(Object.values(paths))) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

let ioWeight;
/**
 * Whether this host can set a block I/O weight: a v1 blkio root with CFQ's or
 * BFQ's weight file, or, on cgroup2, a probe cgroup of this test with io enabled
 * showing io.weight (io.cost) or io.bfq.weight.
 */
export function hostHasIoWeight() {
  if (ioWeight !== undefined) return ioWeight;
  if (layout.v1.has('blkio')) return (ioWeight = hasIoWeightIn(layout.v1.get('blkio')));
  if (!layout.v2Controllers.has('io')) return (ioWeight = false);
  const probe = join(layout.unified, `${TOP}-ioprobe`);
  const on = readFileSync(join(layout.unified, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  if (!on.includes('io')) writeFileSync(join(layout.unified, 'cgroup.subtree_control'), '+io');
  mkdirSync(probe);
  try {
    return (ioWeight = hasIoWeightIn(probe));
  } finally {
    rmdirSync(probe);
  }
}

/** The skip reason of a test that sets a block I/O weight, false when the host has one. */
export const noIoWeight = () => (hostHasIoWeight() ? false : 'no BFQ or io.cost I/O scheduler (blkio weight)');

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
  const saw = (text, ms = 15000 * SLOWDOWN) =>
    new Promise((resolve, reject) => {
      if (out.includes(text)) return resolve();
      const timer = setTimeout(() => reject(new Error(`events printed no ${text} in ${ms} ms: ${out}`)), ms);
      waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
    });
  return { firstLine, done, saw, stop: () => child.kill() };
}

/** cpu.shares as cgroup2's cpu.weight (runc's and crun's conversion). */
export const sharesToWeight = (shares) => 1 + Math.floor(((shares - 2) * 9999) / 262142);

/**
 * Asserts that the container with `paths` has the limits in `r` (a subset of
 * linux.resources), read from the v1 file or the cgroup2 file that holds each
 * on this host, converted as runc converts them for cgroup2.
 */
export function assertLimits(paths, r) {
  const mem = dirFor(paths, 'memory');
  const v1mem = home('memory') === 'v1';
  const max = (n) => (n === -1 ? 'max' : String(n));
  if (r.memory?.limit !== undefined) assert.equal(read(mem, v1mem ? 'memory.limit_in_bytes' : 'memory.max'), v1mem ? String(r.memory.limit) : max(r.memory.limit), 'memory limit');
  if (r.memory?.swap !== undefined) {
    if (v1mem) assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(r.memory.swap), 'memory+swap limit');
    else assert.equal(read(mem, 'memory.swap.max'), r.memory.swap === -1 ? 'max' : String(r.memory.swap - r.memory.limit), 'swap limit');
  }
  if (r.memory?.reservation !== undefined) assert.equal(read(mem, v1mem ? 'memory.soft_limit_in_bytes' : 'memory.low'), String(r.memory.reservation), 'memory reservation');
  if (r.pids?.limit !== undefined) assert.equal(read(dirFor(paths, 'pids'), 'pids.max'), max(r.pids.limit), 'pids limit');
  const cpu = dirFor(paths, 'cpu');
  const v1cpu = home('cpu') === 'v1';
  if (r.cpu?.shares !== undefined) assert.equal(read(cpu, v1cpu ? 'cpu.shares' : 'cpu.weight'), String(v1cpu ? r.cpu.shares : sharesToWeight(r.cpu.shares)), 'cpu shares');
  if (r.cpu?.quota !== undefined || r.cpu?.period !== undefined) {
    if (v1cpu) {
      if (r.cpu.quota !== undefined) assert.equal(read(cpu, 'cpu.cfs_quota_us'), String(r.cpu.quota), 'cpu quota');
      if (r.cpu.period !== undefined) assert.equal(read(cpu, 'cpu.cfs_period_us'), String(r.cpu.period), 'cpu period');
    } else {
      const [quota, period] = read(cpu, 'cpu.max').split(' ');
      if (r.cpu.quota !== undefined) assert.equal(quota, max(r.cpu.quota), 'cpu quota');
      if (r.cpu.period !== undefined) assert.equal(period, String(r.cpu.period), 'cpu period');
    }
  }
  if (r.cpu?.cpus !== undefined) assert.equal(read(dirFor(paths, 'cpuset'), 'cpuset.cpus'), r.cpu.cpus, 'cpuset cpus');
  if (r.cpu?.mems !== undefined) assert.equal(read(dirFor(paths, 'cpuset'), 'cpuset.mems'), r.cpu.mems, 'cpuset mems');
  for (const h of r.hugepageLimits ?? []) {
    const v1huge = home('hugetlb') === 'v1';
    assert.equal(read(dirFor(paths, 'hugetlb'), `hugetlb.${h.pageSize}.${v1huge ? 'limit_in_bytes' : 'max'}`), String(h.limit), `hugetlb ${h.pageSize}`);
  }
}

/** The CPU time the cgroup's processes used, in ns (v1 cpuacct.usage, cgroup2 cpu.stat usage_usec). */
export function cpuUsage(paths) {
  if (home('cpuacct') === 'v1') return Number(read(paths.cpuacct, 'cpuacct.usage'));
  const m = /usage_usec (\d+)/.exec(read(paths[''], 'cpu.stat'));
  return Number(m[1]) * 1000;
}

/** The OOM kills counted in the cgroup (v1 memory.oom_control, cgroup2 memory.events). */
export function oomKills(paths) {
  const text = home('memory') === 'v1' ? read(paths.memory, 'memory.oom_control') : read(paths[''], 'memory.events');
  return Number(/oom_kill (\d+)/.exec(text)[1]);
}

/** The skip reason for a test part that needs huge pages of `size` limited by hugetlb, false when the host has them. */
export const noHugetlb = (size = '2MB') =>
  !home('hugetlb') ? 'no hugetlb controller' : !hugePageSizes().includes(size) ? `no ${size} huge pages` : false;

/** The skip reason for a part that needs `controller`, false when the host has it. */
export const noController = (controller) => (home(controller) ? false : `no ${controller} controller`);
