// Cgroups through rocker-runtime with busybox containers: limits read back,
// OOM kill with an "oom" event, a fork bomb held at the pids limit, pause and
// resume of a counting container, update of a running one, events --stats
// growing with the container's memory, delete --force leaving no cgroup. On
// whatever cgroup layout the host has (the files read come from layout.mjs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBundle, rt, rtDetached, tempDir, cleanupRoot } from '../runtime/helpers.mjs';
import { assertLimits, cleanup, dirFor, home, noController, noHugetlb, read, streamEvents, waitFor, TOP } from './helpers.mjs';

const root = tempDir('cgrun');
const bundles = [];
after(async () => {
  await cleanupRoot(root);
  await cleanup();
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
let n = 0;

/** A busybox bundle running `sh -c script` in /<TOP>-run/<id> with `resources`. */
function bundle(id, script, resources) {
  const b = makeBundle((c) => {
    c.process.args = ['sh', '-c', script];
    // Raising ambient capabilities is not what these tests are about.
    delete c.process.capabilities.ambient;
    c.linux.cgroupsPath = `/${TOP}-run/${id}`;
    c.linux.resources = { ...c.linux.resources, ...resources };
  });
  symlinkSync('busybox', join(b, 'rootfs/bin/seq'));
  bundles.push(b);
  return b;
}

/** create + start; returns the container's id, bundle and cgroup paths (from state.json). */
async function started(label, script, resources) {
  const id = `${label}-${process.pid}-${++n}`;
  const b = bundle(id, script, resources);
  const c = await rtDetached(root, ['create', '--bundle', b, id]);
  assert.equal(c.code, 0, c.stderr);
  const paths = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupPaths;
  const s = await rtDetached(root, ['start', id]);
  assert.equal(s.code, 0, s.stderr);
  return { id, bundle: b, paths };
}

async function deleteForce(id, paths) {
  const r = await rt(root, ['delete', '--force', id]);
  assert.equal(r.code, 0, r.stderr);
  for (const d of Object.values(paths)) assert.ok(!existsSync(d), `${d} removed`);
}

test('limits are in cgroupfs while the container runs; delete --force leaves no cgroup', async (t) => {
  const resources = {
    memory: { limit: 48 * MiB, swap: 64 * MiB, reservation: 16 * MiB },
    cpu: { shares: 256, quota: 25000, period: 100000, ...(home('cpuset') && { cpus: '0' }) },
    pids: { limit: 50 },
  };
  if (!home('cpuset')) await t.test('cpu.cpus', { skip: noController('cpuset') }, () => {});
  if (!noHugetlb()) resources.hugepageLimits = [{ pageSize: '2MB', limit: 4 * MiB }];
  else await t.test('hugepageLimits', { skip: noHugetlb() }, () => {});
  const { id, paths } = await started('limits', 'sleep 60', resources);
  assertLimits(paths, resources);
  // The runtime-spec default denies every device but the defaults: /dev/null stays usable
  // (on cgroup2 the rules are a BPF program, checked by device-bpf.test.mjs and the lifecycle tests).
  if (home('devices') === 'v1') assert.ok(read(paths.devices, 'devices.list').split('\n').includes('c 1:3 rwm'));
  const ps = await rt(root, ['ps', '--format', 'json', id]);
  assert.equal(ps.stderr, '');
  const [pid] = JSON.parse(ps.stdout);
  for (const d of Object.values(paths)) assert.ok(read(d, 'cgroup.procs').split('\n').includes(String(pid)), d);
  await deleteForce(id, paths);
});

test('a memory hog is OOM-killed and events reports "oom"', async () => {
  const id = `oom-${process.pid}-${++n}`;
  const b = bundle(id, 'x=a; while :; do x=$x$x; done', { memory: { limit: 24 * MiB, swap: 24 * MiB } });
  assert.equal((await rtDetached(root, ['create', '--bundle', b, id])).code, 0);
  const paths = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupPaths;
  const stream = streamEvents(['--root', root, 'events', '--interval', '300ms', id]);
  // Started once events streams, so the kill comes after its OOM baseline.
  await stream.firstLine;
  assert.equal((await rtDetached(root, ['start', id])).code, 0);
  const { code, stderr, events: lines } = await stream.done;
  assert.equal(code, 0, stderr);
  assert.deepEqual(lines.filter((e) => e.type === 'oom'), [{ type: 'oom', id }]);
  assert.ok(lines.some((e) => e.type === 'stats' && e.data.memory.usage.limit === 24 * MiB));
  await deleteForce(id, paths);
});

test('a fork bomb stops at the pids limit; kill --all reaches every process', async () => {
  // The subshell gives up at the first failed fork; the init shell stays to be counted and killed.
  const { id, paths } = await started('forkbomb', '(for i in $(seq 60); do sleep 60 & done); sleep 60; true', { pids: { limit: 12 } });
  await waitFor(() => /max [1-9]/.test(read(dirFor(paths, 'pids'), 'pids.events')), 'the pids limit to be hit');
  assert.ok(Number(read(dirFor(paths, 'pids'), 'pids.current')) <= 12);
  const ps = JSON.parse((await rt(root, ['ps', '--format', 'json', id])).stdout);
  assert.ok(ps.length > 1 && ps.length <= 12);
  assert.equal((await rt(root, ['kill', '--all', id, '9'])).code, 0);
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs') === '', 'every process to die');
  await deleteForce(id, paths);
});

test('pause stops a counting container (state paused); resume lets it count on', async () => {
  const { id, bundle: b, paths } = await started('pause', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; done', {
    cpu: { quota: 20000, period: 100000 },
  });
  const count = () => Number(readFileSync(join(b, 'rootfs/tmp/count'), 'utf8').trim() || 0);
  await waitFor(() => existsSync(join(b, 'rootfs/tmp/count')) && count() > 0, 'counting to start');
  assert.equal((await rt(root, ['pause', id])).code, 0);
  assert.equal(JSON.parse((await rt(root, ['state', id])).stdout).status, 'paused');
  const at = count();
  await sleep(400);
  assert.equal(count(), at, 'no counting while paused');
  assert.equal((await rt(root, ['resume', id])).code, 0);
  await waitFor(() => count() > at, 'counting to go on');
  assert.equal(JSON.parse((await rt(root, ['state', id])).stdout).status, 'running');
  await deleteForce(id, paths);
});

test('kill --all of a paused container: other signals leave it paused, SIGKILL still empties it', async () => {
  const { id, bundle: b, paths } = await started('killpaused', 'trap "echo term > /tmp/term" TERM; sleep 600 & while :; do sleep 1; done');
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs').split('\n').length >= 3, 'the children to start');
  assert.equal((await rt(root, ['pause', id])).code, 0);
  assert.equal((await rt(root, ['kill', '--all', id, 'TERM'])).code, 0);
  assert.equal(paths.freezer ? read(paths.freezer, 'freezer.state') : read(paths[''], 'cgroup.freeze'), paths.freezer ? 'FROZEN' : '1');
  assert.equal(JSON.parse((await rt(root, ['state', id])).stdout).status, 'paused');
  assert.ok(!existsSync(join(b, 'rootfs/tmp/term')), 'the frozen init has not run its handler');
  const k = await rt(root, ['kill', '--all', id, 'KILL']);
  assert.equal(k.code, 0, k.stderr);
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs') === '', 'every frozen process to die');
  await waitFor(async () => JSON.parse((await rt(root, ['state', id])).stdout).status === 'stopped', 'the container to stop');
  await deleteForce(id, paths);
});

test('kill --all sweeps what a container without a pid namespace leaves behind its stopped init', async () => {
  const id = `leftover-${process.pid}-${++n}`;
  const b = bundle(id, 'sleep 600 & echo started > /tmp/started');
  const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  cfg.linux.namespaces = cfg.linux.namespaces.filter((ns) => ns.type !== 'pid');
  writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
  assert.equal((await rtDetached(root, ['create', '--bundle', b, id])).code, 0);
  const paths = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupPaths;
  assert.equal((await rtDetached(root, ['start', id])).code, 0);
  await waitFor(async () => JSON.parse((await rt(root, ['state', id])).stdout).status === 'stopped', 'the init to exit');
  assert.notEqual(read(dirFor(paths, 'pids'), 'cgroup.procs'), '', 'the background sleep outlives the init');
  const plain = await rt(root, ['kill', id, 'KILL']);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /container not running/);
  const k = await rt(root, ['kill', '--all', id, 'KILL']);
  assert.equal(k.code, 0, k.stderr);
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs') === '', 'the leftover to die');
  await deleteForce(id, paths);
});

test('update changes the limits of a running container; events --stats sees its memory grow', async () => {
  const { id, bundle: b, paths } = await started(
    'update',
    // The shell keeps the 32 MiB string until after the sleep.
    'while [ ! -e /tmp/go ]; do sleep 1; done; x=a; i=0; while [ $i -lt 25 ]; do x=$x$x; i=$((i+1)); done; sleep 60; echo ${#x}',
    { memory: { limit: 256 * MiB } },
  );
  const r = await rt(root, ['update', '--memory', '512m', '--memory-swap', '1g', '--pids-limit', '40', '--cpu-share', '300', id]);
  assert.equal(r.code, 0, r.stderr);
  assertLimits(paths, { memory: { limit: 512 * MiB, swap: 1024 * MiB }, pids: { limit: 40 }, cpu: { shares: 300 } });
  const usage = async () => {
    const s = await rt(root, ['events', '--stats', id]);
    assert.equal(s.code, 0, s.stderr);
    return JSON.parse(s.stdout).data.memory.usage.usage;
  };
  const before = await usage();
  writeFileSync(join(b, 'rootfs/tmp/go'), '');
  await waitFor(async () => (await usage()) > before + 24 * MiB, 'memory use to grow', 15000);
  await deleteForce(id, paths);
});
