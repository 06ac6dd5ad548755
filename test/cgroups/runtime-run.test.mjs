// Cgroups through rocker-runtime with busybox containers: limits read back,
// OOM kill with an "oom" event, a fork bomb held at the pids limit, update of a
// running one, events --stats growing with the container's memory, delete
// --force leaving no cgroup. On whatever cgroup layout the host has (the files
// read come from layout.mjs). Pause and kill --all: runtime-pause.test.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rtDetached } from '../runtime/helpers.mjs';
import { assertLimits, dirFor, home, noController, noHugetlb, read, streamEvents, waitFor } from './helpers.mjs';
import { bundle, cleanup, containerId, created, deleteForce, root, rr, started } from './containers.mjs';

after(cleanup);

const MiB = 1024 * 1024;

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
  const ps = await rr(['ps', '--format', 'json', id]);
  assert.equal(ps.stderr, '');
  const [pid] = JSON.parse(ps.stdout);
  for (const d of Object.values(paths)) assert.ok(read(d, 'cgroup.procs').split('\n').includes(String(pid)), d);
  await deleteForce(id, paths);
});

test('a memory hog is OOM-killed and events reports "oom"', async () => {
  const id = containerId('oom');
  const paths = await created(id, bundle(id, 'x=a; while :; do x=$x$x; done', { memory: { limit: 24 * MiB, swap: 24 * MiB } }));
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
  const ps = JSON.parse((await rr(['ps', '--format', 'json', id])).stdout);
  assert.ok(ps.length > 1 && ps.length <= 12);
  assert.equal((await rr(['kill', '--all', id, '9'])).code, 0);
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs') === '', 'every process to die');
  await deleteForce(id, paths);
});

test('update changes the limits of a running container; events --stats sees its memory grow', async () => {
  const { id, bundle: b, paths } = await started(
    'update',
    // The shell keeps the 32 MiB string until after the sleep.
    'while [ ! -e /tmp/go ]; do sleep 1; done; x=a; i=0; while [ $i -lt 25 ]; do x=$x$x; i=$((i+1)); done; sleep 60; echo ${#x}',
    { memory: { limit: 256 * MiB } },
  );
  const r = await rr(['update', '--memory', '512m', '--memory-swap', '1g', '--pids-limit', '40', '--cpu-share', '300', id]);
  assert.equal(r.code, 0, r.stderr);
  assertLimits(paths, { memory: { limit: 512 * MiB, swap: 1024 * MiB }, pids: { limit: 40 }, cpu: { shares: 300 } });
  const usage = async () => {
    const s = await rr(['events', '--stats', id]);
    assert.equal(s.code, 0, s.stderr);
    return JSON.parse(s.stdout).data.memory.usage.usage;
  };
  const before = await usage();
  writeFileSync(join(b, 'rootfs/tmp/go'), '');
  await waitFor(async () => (await usage()) > before + 24 * MiB, 'memory use to grow', 15000);
  await deleteForce(id, paths);
});
