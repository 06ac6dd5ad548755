// update, pause, resume, ps and events through rocker-runtime, on a container
// whose init is a real process in a real cgroup, recorded in a state.json the
// way `create` records it (so these commands are tested before nsexec runs
// busybox bundles; delete --force is runtime-core's, on the same state).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertLimits, cleanup, cpuUsage, dirFor, gatedShell, home, noController, noHugetlb, noIoWeight, open, place, read, runtime, startTime, streamEvents, waitFor,
} from './helpers.mjs';

const root = mkdtempSync(join(tmpdir(), 'rocker-cgcmd-'));
after(async () => {
  await cleanup();
  rmSync(root, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

/** A "container": `script` runs (once released) as init in a cgroup with `resources`. */
async function container(label, resources, script) {
  const id = `${label}-${process.pid}`;
  const m = await open(label);
  await m.create(resources);
  const init = await gatedShell(script);
  place(m.paths, init.pid);
  mkdirSync(join(root, id));
  const state = {
    id,
    pid: init.pid,
    pidStartTime: startTime(init.pid),
    bundle: root,
    rootfs: join(root, 'rootfs'),
    created: new Date().toISOString(),
    owner: '',
    cgroupPaths: m.paths,
    config: { ociVersion: '1.3.0', linux: { resources } },
  };
  writeFileSync(join(root, id, 'state.json'), JSON.stringify(state));
  init.go();
  return { id, m, init };
}

const rr = (args, input) => runtime(['--root', root, ...args], input);
const status = async (id) => JSON.parse((await rr(['state', id])).stdout).status;

test('pause freezes the container (CPU time stops), state says paused; resume lets it go on', async () => {
  const { id, m } = await container('pause', { cpu: { quota: 10000, period: 100000 } }, 'while :; do :; done');
  const usage = () => cpuUsage(m.paths);
  await waitFor(() => usage() > 0, 'the loop to run', 20000);
  assert.deepEqual(await rr(['pause', id]), { code: 0, stdout: '', stderr: '' });
  assert.equal(await status(id), 'paused');
  const at = usage();
  await sleep(300);
  assert.equal(usage(), at);
  const again = await rr(['pause', id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /container not running/);
  assert.equal((await rr(['resume', id])).code, 0);
  assert.equal(await status(id), 'running');
  await waitFor(() => usage() > at, 'CPU time to advance', 20000);
  assert.match((await rr(['resume', id])).stderr, /container not paused/);
});

test('update with runc flags and with --resources on stdin changes a running container', async (t) => {
  const { id, m } = await container('update', { memory: { limit: 64 * MiB }, pids: { limit: 10 } }, 'exec sleep 60');
  const flags = ['--memory', '128m', '--memory-swap', '256m', '--pids-limit', '30', '--cpu-share', '768', '--cpu-quota', '30000', '--cpu-period', '60000'];
  const want = { memory: { limit: 128 * MiB, swap: 256 * MiB }, pids: { limit: 30 }, cpu: { shares: 768, quota: 30000, period: 60000 } };
  if (home('cpuset')) {
    flags.push('--cpuset-cpus', '0');
    want.cpu.cpus = '0';
  } else await t.test('--cpuset-cpus', { skip: noController('cpuset') }, () => {});
  if (!noIoWeight()) flags.push('--blkio-weight', '500');
  else await t.test('--blkio-weight', { skip: noIoWeight() }, () => {});
  const r = await rr(['update', ...flags, id]);
  assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
  assertLimits(m.paths, want);
  if (flags.includes('--blkio-weight')) {
    const d = dirFor(m.paths, home('blkio') ? 'blkio' : 'io');
    const file = ['blkio.weight', 'blkio.bfq.weight', 'io.bfq.weight', 'io.weight'].find((f) => existsSync(join(d, f)));
    assert.match(read(d, file), file === 'io.weight' ? /4950/ : /500/);
  }
  const json = { memory: { limit: 96 * MiB, swap: 96 * MiB }, pids: { limit: 12 } };
  if (!noHugetlb()) json.hugepageLimits = [{ pageSize: '2MB', limit: 2 * MiB }];
  else await t.test('hugepageLimits', { skip: noHugetlb() }, () => {});
  assert.equal((await rr(['update', '-r', '-', id], JSON.stringify(json))).code, 0);
  assertLimits(m.paths, json);
  const bad = await rr(['update', '-r', '-', id], JSON.stringify({ network: { classID: 1 } }));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /stdin: network\.classID: the net_cls \(v1\) controller is not available/);
  if (home('memory') === 'v1') {
    // v1 refuses a limit below the usage; cgroup2 would reclaim and OOM-kill instead.
    const rejected = await rr(['update', '--memory', '1', id]);
    assert.equal(rejected.code, 1);
    // The kernel's EBUSY in runc's words.
    assert.match(rejected.stderr, /unable to set memory limit to 1 \(current usage: [0-9]+, peak usage: [0-9]+\)/);
  } else {
    const rejected = await rr(['update', '--memory', '64m', '--memory-swap', '32m', id]);
    assert.equal(rejected.code, 1);
    assert.match(rejected.stderr, /memory\.swap: memory\+swap limit 33554432 must be at least the memory limit 67108864/);
  }
});

test('ps lists the container processes: table filtered from ps(1), --format json as pids with nothing on stderr', async () => {
  const { id, m, init } = await container('ps', undefined, 'sleep 61 & sleep 62 & wait');
  await waitFor(async () => (await m.pids()).length === 3, 'three processes');
  const json = await rr(['ps', '--format', 'json', id]);
  assert.equal(json.stderr, '');
  assert.deepEqual(JSON.parse(json.stdout).sort(), (await m.pids()).sort());
  assert.ok(JSON.parse(json.stdout).includes(init.pid));
  const table = await rr(['ps', id, '-o', 'pid,args']);
  assert.equal(table.code, 0);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0], /PID/);
  assert.equal(lines.length, 4, table.stdout);
  assert.ok(lines.some((l) => /sleep 62/.test(l)));
  assert.ok(!lines.some((l) => /node/.test(l)), 'nothing outside the container');
});

test('events --stats: memory use grows when the container allocates', async () => {
  const go = join(root, 'stats-go');
  const { id } = await container('stats', { memory: { limit: 256 * MiB } }, `while [ ! -e ${go} ]; do sleep 0.05; done; cat /dev/zero | tail -c 50000000; sleep 60`);
  const stats = async () => {
    const r = await rr(['events', '--stats', id]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    return JSON.parse(lines[0]);
  };
  const first = await stats();
  // Unlimited is 2^63 - 4096 in v1 cgroupfs ("max", uint64's max for runc, in cgroup2), printed exactly as runc prints uint64.
  if (home('memory') === 'v1') assert.match((await rr(['events', '--stats', id])).stdout, /"kernel":\{"limit":9223372036854771712,/);
  else assert.match((await rr(['events', '--stats', id])).stdout, /"swap":\{"limit":18446744073709551615,/);
  assert.ok(Array.isArray(first.data.network_interfaces));
  assert.equal(first.type, 'stats');
  assert.equal(first.id, id);
  for (const k of ['cpu', 'memory', 'pids', 'blkio', 'hugetlb']) assert.ok(k in first.data, k);
  assert.equal(first.data.memory.usage.limit, 256 * MiB);
  writeFileSync(go, '');
  await waitFor(async () => (await stats()).data.memory.usage.usage > first.data.memory.usage.usage + 30 * MiB, 'memory use to grow', 10000);
});

test('events streams stats and reports an OOM kill, ending when the container stops', async () => {
  const go = join(root, 'oom-go');
  const { id } = await container('oom', { memory: { limit: 24 * MiB, swap: 24 * MiB } }, `while [ ! -e ${go} ]; do sleep 0.05; done; cat /dev/zero | tail -c 400000000`);
  const stream = streamEvents(['--root', root, 'events', '--interval', '200ms', id]);
  // The hog starts once events streams, so the kill comes after its OOM baseline.
  await stream.firstLine;
  writeFileSync(go, '');
  const { code, stderr, events } = await stream.done;
  assert.equal(code, 0, stderr);
  assert.ok(events.some((e) => e.type === 'stats' && e.id === id && e.data.memory));
  assert.deepEqual(events.filter((e) => e.type === 'oom'), [{ type: 'oom', id }]);
  const stopped = await rr(['events', '--stats', id]);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, new RegExp(`container with id ${id} is not running`));
});

test('events reports the OOM kill of a child as it happens, while the container runs on', async () => {
  const go = join(root, 'oomchild-go');
  const { id, init } = await container(
    'oomchild',
    { memory: { limit: 24 * MiB, swap: 24 * MiB } },
    `while [ ! -e ${go} ]; do sleep 0.05; done; (cat /dev/zero | tail -c 400000000); sleep 60`,
  );
  // A long interval: the oom line must come from the kernel's notification, not a stats tick.
  const stream = streamEvents(['--root', root, 'events', '--interval', '1h', id]);
  await stream.firstLine;
  writeFileSync(go, '');
  await stream.saw('"type":"oom"');
  assert.equal(init.exitCode, null, 'the init still runs');
  stream.stop();
  const { events } = await stream.done;
  assert.deepEqual(events.filter((e) => e.type === 'oom'), [{ type: 'oom', id }]);
});

test('delete --force kills every process of a paused container and leaves no cgroup', async () => {
  const { id, m } = await container('delete', { pids: { limit: 20 } }, 'sleep 63 & sleep 64 & wait');
  await waitFor(async () => (await m.pids()).length === 3, 'three processes');
  assert.equal((await rr(['pause', id])).code, 0);
  const r = await rr(['delete', '--force', id]);
  assert.equal(r.code, 0, r.stderr);
  for (const d of Object.values(m.paths)) assert.ok(!existsSync(d), `${d} removed`);
  assert.ok(!existsSync(join(root, id)));
});

test('commands on an unknown container fail like runc', async () => {
  for (const verb of ['pause', 'resume', 'update', 'ps', 'events']) {
    const r = await rr([verb, 'no-such-container']);
    assert.equal(r.code, 1, verb);
    assert.match(r.stderr, /container does not exist/, verb);
  }
});
