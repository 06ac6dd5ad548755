// The cgroupfs manager on this host's real cgroups, whatever their layout (v1,
// hybrid or pure cgroup2): every resource field the host supports is read back
// from cgroupfs; limits act on real processes. Expected paths and files come from
// layout.mjs (mountinfo read by the test itself), not from the runtime.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertLimits, cg, cleanup, cpuUsage, dirFor, dist, gatedShell, home, layout, noController, noHugetlb, noIoWeight, oomKills, open, place, read,
  sharesToWeight, topDirs, uniquePath, waitFor, TOP,
} from './helpers.mjs';
import { expectedKeys, firstBlockDevice, hostPath, ownCgroups } from './layout.mjs';

const { cgroupMetrics } = await import(new URL('shim/metrics.js', dist));
const { decode } = await import(new URL('shim/proto.js', dist));

after(cleanup);

const MiB = 1024 * 1024;
// tail -c keeps the last N bytes of an endless pipe in memory: it grows to N (or until killed).
const HOG = (bytes) => `cat /dev/zero | tail -c ${bytes}`;
const blockDevice = firstBlockDevice();
// Any one hierarchy's key, to check a path computation on.
const someKey = expectedKeys()[0][0];

test('paths: one directory per v1 hierarchy (by controller) plus the cgroup2 one, under each mount', async () => {
  const m = await open('paths');
  const expected = Object.fromEntries(expectedKeys().map(([key]) => [key, hostPath(key, `/${TOP}/paths-1`)]));
  assert.deepEqual(m.paths, expected);
  if (layout.mode === 'unified') assert.deepEqual(Object.keys(m.paths), ['']);
  assert.ok(Object.values(m.paths).every((d) => !existsSync(d)), 'nothing is created before create()');
});

test('relative cgroupsPath is under the runtime\'s own cgroup in each hierarchy; unset is /rocker/<id>', async () => {
  const own = ownCgroups();
  const paths = cg.cgroupPaths({ id: 'x', systemd: false, cgroupsPath: 'a/b' });
  for (const [key] of expectedKeys()) assert.equal(paths[key], hostPath(key, join(own.get(key), 'a/b')), key || 'cgroup2');
  assert.equal(cg.cgroupPaths({ id: 'abc', systemd: false })[someKey], hostPath(someKey, '/rocker/abc'));
});

test('systemd slice:prefix:name maps to the cgroupfs path of its scope', () => {
  const p = (v) => cg.cgroupPaths({ id: 'i', systemd: true, cgroupsPath: v })[someKey];
  assert.equal(p('system.slice:docker:abc'), hostPath(someKey, '/system.slice/docker-abc.scope'));
  assert.equal(p('a-b.slice:crio:x'), hostPath(someKey, '/a.slice/a-b.slice/crio-x.scope'));
  assert.equal(p('machine.slice:libpod:c1'), hostPath(someKey, '/machine.slice/libpod-c1.scope'));
  assert.equal(cg.cgroupPaths({ id: 'i', systemd: true })[someKey], hostPath(someKey, '/system.slice/rocker-i.scope'));
  assert.throws(() => p('/not/systemd'), /slice:prefix:name/);
  assert.throws(() => p('a--b.slice:x:y'), /invalid slice name/);
});

test('a cgroupsPath escaping the root is refused and creates nothing', async () => {
  for (const bad of ['/../../etc', '../../..', `/${TOP}/../../x`]) {
    await assert.rejects(cg.openCgroupManager({ id: 'e', systemd: false, cgroupsPath: bad }), /linux\.cgroupsPath.*escapes the cgroup root/);
  }
  assert.deepEqual(topDirs().filter(existsSync), []);
});

/** The realtime runtime (µs per period) the cpu hierarchy's root still has to give: what its children hold is taken. */
function freeRealtimeBudget(root) {
  const us = (dir) => Number(readFileSync(join(dir, 'cpu.rt_runtime_us'), 'utf8'));
  const children = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => us(join(root, e.name)));
  return us(root) - children.reduce((a, b) => a + b, 0);
}

/** Skips, as a subtest whose name and reason say what this host lacks, a part of a test. */
const skipPart = (t, part, reason) => t.test(part, { skip: reason }, () => {});

test('every field the host supports is written and reads back from cgroupfs', async (t) => {
  const v1 = (c) => home(c) === 'v1';
  const r = {
    memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB, ...(v1('memory') && { swappiness: 20, disableOOMKiller: false, kernelTCP: 16 * MiB }) },
    cpu: { shares: 512, quota: 20000, period: 50000, burst: 10000, idle: 0, ...(home('cpuset') && { cpus: '0', mems: '0' }) },
    pids: { limit: 42 },
    blockIO: {},
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }],
  };
  const io = home('blkio') ?? home('io');
  if (io && !noIoWeight()) r.blockIO.weight = 300;
  else await skipPart(t, 'blockIO.weight', io ? noIoWeight() : 'no blkio or io controller');
  if (io && blockDevice) {
    const [major, minor] = blockDevice;
    Object.assign(r.blockIO, {
      throttleReadBpsDevice: [{ major, minor, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major, minor, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major, minor, rate: 100 }],
      throttleWriteIOPSDevice: [{ major, minor, rate: 200 }],
    });
  } else await skipPart(t, 'blockIO throttles', io ? 'no block device (blkio throttle)' : 'no blkio or io controller');
  if (!noHugetlb()) r.hugepageLimits = [{ pageSize: '2MB', limit: 8 * MiB }];
  else await skipPart(t, 'hugepageLimits', noHugetlb());
  if (!home('cpuset')) await skipPart(t, 'cpu.cpus and cpu.mems', noController('cpuset'));

  const m = await open('all');
  await m.create(r);
  const p = m.paths;
  assertLimits(p, r);
  if (v1('memory')) {
    assert.equal(read(p.memory, 'memory.swappiness'), '20');
    assert.equal(read(p.memory, 'memory.kmem.tcp.limit_in_bytes'), String(16 * MiB));
    assert.match(read(p.memory, 'memory.oom_control'), /oom_kill_disable 0/);
  }
  const cpu = dirFor(p, 'cpu');
  assert.equal(read(cpu, v1('cpu') ? 'cpu.cfs_burst_us' : 'cpu.max.burst'), '10000');
  assert.equal(read(cpu, 'cpu.idle'), '0');
  if (r.blockIO.weight) {
    const d = dirFor(p, io === 'v1' ? 'blkio' : 'io');
    const weights = ['blkio.weight', 'blkio.bfq.weight', 'io.bfq.weight', 'io.weight'].filter((f) => existsSync(join(d, f)));
    // BFQ keeps the v1 range; io.weight (io.cost) takes the converted one: 1 + (300 - 10) * 9999 / 990.
    const want = weights[0] === 'io.weight' ? '2930' : '300';
    assert.equal(read(d, weights[0]).split('\n').find((l) => /^(default )?\d+$/.test(l)).split(' ').pop(), want);
  }
  if (r.blockIO.throttleReadBpsDevice) {
    const dev = `${blockDevice[0]}:${blockDevice[1]}`;
    if (io === 'v1') {
      assert.equal(read(p.blkio, 'blkio.throttle.read_bps_device'), `${dev} 1048576`);
      assert.equal(read(p.blkio, 'blkio.throttle.write_bps_device'), `${dev} 2097152`);
      assert.equal(read(p.blkio, 'blkio.throttle.read_iops_device'), `${dev} 100`);
      assert.equal(read(p.blkio, 'blkio.throttle.write_iops_device'), `${dev} 200`);
    } else {
      assert.equal(read(p[''], 'io.max'), `${dev} rbps=1048576 wbps=2097152 riops=100 wiops=200`);
    }
  }
  if (home('devices') === 'v1') {
    const devices = read(p.devices, 'devices.list').split('\n');
    assert.ok(devices.includes('c 1:3 rwm'), 'the default /dev/null rule follows the config rules');
    assert.ok(devices.includes('c 136:* rwm') && devices.includes('c *:* m'));
    assert.ok(!devices.includes('a *:* rwm'), 'deny-all took effect');
  }
  // (On cgroup2 the rules are a BPF program: device-bpf.test.mjs checks what it lets through.)
  await m.destroy();
  for (const d of Object.values(p)) assert.ok(!existsSync(d), `${d} removed`);
});

test('realtime CPU and disableOOMKiller on v1 (refused, naming the field, on cgroup2); unified keys reach cgroup2', async (t) => {
  // A realtime budget needs one on every ancestor, so this cgroup sits right under the root.
  const m = await cg.openCgroupManager({ id: 'rt', systemd: false, cgroupsPath: `/${TOP}-rt` });
  const rt = { cpu: { realtimePeriod: 1000000, realtimeRuntime: 5000 } };
  const noOom = { memory: { limit: 32 * MiB, disableOOMKiller: true } };
  if (home('cpu') !== 'v1') {
    await assert.rejects(m.create(rt), /linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime CPU bandwidth control/);
  } else if (!existsSync(join(layout.v1.get('cpu'), 'cpu.rt_runtime_us'))) {
    await skipPart(t, 'realtime CPU', 'no realtime group scheduling (cpu.rt_runtime_us)');
  } else if (freeRealtimeBudget(layout.v1.get('cpu')) < rt.cpu.realtimeRuntime) {
    await skipPart(t, 'realtime CPU', 'the cpu root\'s realtime budget is all given to other cgroups (cpu.rt_runtime_us)');
  } else {
    await m.create(rt);
    assert.equal(read(m.paths.cpu, 'cpu.rt_period_us'), '1000000');
    assert.equal(read(m.paths.cpu, 'cpu.rt_runtime_us'), '5000');
    await m.destroy();
  }
  const o = await cg.openCgroupManager({ id: 'rt', systemd: false, cgroupsPath: `/${TOP}-oomk` });
  if (home('memory') === 'v1') {
    await o.create(noOom);
    assert.match(read(o.paths.memory, 'memory.oom_control'), /oom_kill_disable 1/);
    await o.destroy();
  } else {
    await assert.rejects(o.create(noOom), /linux\.resources\.memory\.disableOOMKiller: cgroup v2 cannot disable the OOM killer/);
  }
  assert.deepEqual(topDirs().map((d) => `${d}-rt`).concat(topDirs().map((d) => `${d}-oomk`)).filter(existsSync), [], 'nothing left behind');
  // A unified key of a controller that is cgroup2's on this host.
  const key = home('memory') === 'v2' ? ['memory.high', String(24 * MiB)] : !noHugetlb() ? ['hugetlb.2MB.max', String(4 * MiB)] : undefined;
  if (!key) return skipPart(t, 'unified keys', 'no memory or hugetlb controller in the cgroup2 tree');
  const u = await open('unified');
  await u.create({ unified: { [key[0]]: key[1] } });
  assert.equal(read(u.paths[''], key[0]), key[1]);
  await u.destroy();
});

test('pids() lists the processes of every hierarchy and of sub-cgroups', async () => {
  const m = await open('procs');
  await m.create(undefined);
  const c = await gatedShell('exec sleep 60');
  place(m.paths, c.pid);
  const sub = join(dirFor(m.paths, 'pids') ?? m.paths[''], 'sub');
  mkdirSync(sub);
  const d = await gatedShell('exec sleep 60');
  place({ x: sub }, d.pid);
  assert.deepEqual((await m.pids()).sort(), [c.pid, d.pid].sort());
  c.kill('SIGKILL');
  d.kill('SIGKILL');
  await Promise.all([c.exited, d.exited]);
  assert.deepEqual(await m.pids(), []);
  await m.destroy();
  for (const dir of Object.values(m.paths)) assert.ok(!existsSync(dir), `${dir} removed`);
});

test('a memory hog is OOM-killed at the memory limit and the kill is counted', async () => {
  const m = await open('oom');
  await m.create({ memory: { limit: 32 * MiB, swap: 32 * MiB } });
  const c = await gatedShell(HOG(500000000));
  place(m.paths, c.pid);
  c.go();
  const { code } = await c.exited;
  assert.equal(code, 128 + 9, 'the hog died of SIGKILL');
  const stats = await m.stats();
  assert.equal(stats.memory.usage.max, 32 * MiB, 'usage peaked at the limit');
  assert.ok(oomKills(m.paths) >= 1, 'the kill is counted');
});

test('a fork bomb stops at the pids limit', async () => {
  const m = await open('forkbomb');
  await m.create({ pids: { limit: 8 } });
  const pids = dirFor(m.paths, 'pids');
  // The subshell gives up at the first failed fork, leaving its sleeps behind.
  const c = await gatedShell('(for i in $(seq 40); do sleep 30 & done); sleep 30');
  place(m.paths, c.pid);
  c.go();
  await waitFor(() => /max [1-9]/.test(read(pids, 'pids.events')), 'pids.events max', 20000);
  const current = Number(read(pids, 'pids.current'));
  assert.ok(current <= 8, `pids.current ${current} <= 8`);
  const listed = await m.pids();
  assert.ok(listed.length > 1 && listed.length <= 8, `${listed.length} processes`);
  for (const pid of await m.pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if (e.code !== 'ESRCH') throw e; // the subshell may exit between the listing and the kill
    }
  }
  await c.exited;
});

test('freeze stops the processes (CPU time stops advancing); thaw lets them go on', async () => {
  const m = await open('freeze');
  await m.create({ cpu: { quota: 10000, period: 100000 } });
  const c = await gatedShell('while :; do :; done');
  place(m.paths, c.pid);
  c.go();
  const usage = () => cpuUsage(m.paths);
  await waitFor(() => usage() > 0, 'the loop to run', 20000);
  await m.freeze();
  assert.equal(await m.isFrozen(), true);
  if (!m.paths.freezer) assert.match(read(m.paths[''], 'cgroup.events'), /frozen 1/);
  const frozenAt = usage();
  await sleep(300);
  assert.equal(usage(), frozenAt, 'no CPU time while frozen');
  await m.thaw();
  assert.equal(await m.isFrozen(), false);
  await waitFor(() => usage() > frozenAt, 'CPU time to advance after thaw', 20000);
  c.kill('SIGKILL');
  await c.exited;
});

test('update changes the limits of a cgroup with a running process', async (t) => {
  const m = await open('update');
  await m.create({ memory: { limit: 64 * MiB }, pids: { limit: 10 }, cpu: { shares: 256 } });
  const c = await gatedShell('exec sleep 60');
  place(m.paths, c.pid);
  const cpus = home('cpuset') ? { cpus: availableParallelism() > 1 ? '1' : '0' } : {};
  if (!home('cpuset')) await skipPart(t, 'cpu.cpus', noController('cpuset'));
  const first = { memory: { limit: 128 * MiB, swap: 256 * MiB }, pids: { limit: 20 }, cpu: { shares: 1024, ...cpus } };
  await m.update(first);
  assertLimits(m.paths, first);
  // Lowering memory+swap below the new limit in one update is ordered so the kernel accepts it.
  const second = { memory: { limit: 16 * MiB, swap: 16 * MiB }, pids: { limit: -1 } };
  await m.update(second);
  assertLimits(m.paths, second);
});

test('stats: memory usage grows when the processes allocate', async (t) => {
  const m = await open('stats');
  const huge = noHugetlb() ? {} : { hugepageLimits: [{ pageSize: '2MB', limit: 2 * MiB }] };
  if (noHugetlb()) await skipPart(t, 'hugetlb stats', noHugetlb());
  await m.create({ memory: { limit: 256 * MiB }, ...huge });
  const c = await gatedShell(`${HOG(40000000)}; sleep 60`);
  place(m.paths, c.pid);
  const before = (await m.stats()).memory.usage.usage;
  c.go();
  await waitFor(async () => (await m.stats()).memory.usage.usage > before + 20 * MiB, 'memory usage to grow by 20 MiB', 30000);
  const s = await m.stats();
  assert.equal(s.memory.usage.limit, 256 * MiB);
  assert.ok(s.cpu.usage.total > 0);
  assert.equal(s.pids.current, (await m.pids()).length, 'pids.current counts the processes');
  if (huge.hugepageLimits) assert.deepEqual(s.hugetlb['2MB'], { usage: 0, max: 2 * MiB, failcnt: 0 });
  // The shim's Stats answer: containerd's cgroups v2 Metrics on a pure cgroup2 host (as its runc shim), v1's elsewhere.
  const metrics = await cgroupMetrics(m);
  const got = decode(metrics.type_url, metrics.value);
  assert.equal(got.pids.current, s.pids.current);
  if (layout.mode === 'unified') {
    assert.equal(metrics.type_url, 'io.containerd.cgroups.v2.Metrics');
    assert.ok(got.memory.usage > 20 * MiB && got.memory.anon > 0, JSON.stringify(got.memory));
    assert.equal(got.memory.usageLimit, 256 * MiB);
    assert.ok(got.cpu.usageUsec > 0 && got.cpu.usageUsec >= got.cpu.userUsec, JSON.stringify(got.cpu));
    assert.ok(got.memoryEvents, 'memory.events is carried');
    if (huge.hugepageLimits) assert.deepEqual(got.hugetlb.find((h) => h.pagesize === '2MB'), { pagesize: '2MB', current: 0, max: 2 * MiB });
  } else {
    assert.equal(metrics.type_url, 'io.containerd.cgroups.v1.Metrics');
    assert.ok(got.memory.usage.usage > 20 * MiB && got.memory.usage.limit === 256 * MiB, JSON.stringify(got.memory.usage));
    assert.ok(got.cpu.usage.total > 0);
  }
});

test('an existing cgroup with processes is taken with a warning (as runc 1.1), and marked shared', async () => {
  const m = await open('busy');
  await m.create(undefined);
  const c = await gatedShell('exec sleep 60');
  place(m.paths, c.pid);
  const warnings = [];
  const again = await cg.loadCgroupManager(m.paths, (w) => warnings.push(w));
  await again.create(undefined);
  assert.deepEqual(warnings, ["container's cgroup is not empty: 1 process(es) found"]);
  assert.equal(again.shared, true);
  assert.equal(m.shared, false, 'the first create found it empty');
  assert.deepEqual(await again.pids(), [c.pid]);
});

test('a missing controller, a misplaced unified key and a kernel-rejected value fail clearly with nothing left behind', async () => {
  const cases = [
    [{ network: { classID: 7 } }, /linux\.resources\.network\.classID: the net_cls \(v1\) controller is not available/],
    [{ rdma: { mlx4_0: { hcaHandles: 2 } } }, /linux\.resources\.rdma: the rdma/],
    [{ hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }, /hugepageLimits\[0\]\.pageSize: "3MB" is not a huge page size|linux\.resources\.hugepageLimits: the hugetlb/],
    [{ memory: { limit: 64 * MiB, swap: 32 * MiB } }, /memory\.swap: memory\+swap limit/],
  ];
  if (home('memory') === 'v1') {
    cases.push([{ memory: { swappiness: 101 } }, /memory\.swappiness: invalid value 101/]);
    cases.push(layout.unified
      ? [{ unified: { 'memory.max': '1000000' } }, /linux\.resources\.unified\.memory\.max: invalid configuration: cannot use unified on cgroup v1: memory is a cgroup v1 controller on this host/]
      : [{ unified: { 'memory.max': '1000000' } }, /invalid configuration: cannot use unified on cgroup v1: unified \(cgroup v2\) resources need a cgroup2 hierarchy/]);
  } else {
    cases.push([{ memory: { swappiness: 10 } }, /memory\.swappiness: cgroup v2 has no per-cgroup swappiness/]);
    cases.push([{ unified: { 'memory.nonexistent': '1' } }, /unified\.memory\.nonexistent: .* does not exist/]);
  }
  if (home('cpuset')) {
    const where = home('cpuset') === 'v1' ? layout.v1.get('cpuset') : layout.unified;
    cases.push([{ pids: { limit: 5 }, cpu: { cpus: '64-65' } }, new RegExp(`write ${where}/.*/cpuset\\.cpus: "64-65": (invalid argument|numerical result out of range)`)]);
  }
  for (const [resources, error] of cases) {
    const m = await open('bad', { cgroupsPath: `/${TOP}-bad/x` });
    await assert.rejects(m.create(resources), error);
    for (const d of Object.values(m.paths)) assert.ok(!existsSync(d), `${d} left behind`);
    assert.deepEqual(topDirs().map((d) => `${d}-bad`).filter(existsSync), [], 'created parents removed too');
  }
});

test('destroy removes cgroups the container made inside its own, deepest first', async () => {
  const m = await open('nested');
  await m.create(undefined);
  const some = Object.values(m.paths)[0];
  mkdirSync(join(some, 'sub/inner'), { recursive: true });
  await m.destroy();
  assert.ok(!existsSync(some));
  assert.equal(uniquePath('x').startsWith(`/${TOP}/`), true);
});

test('a manager of only the cgroup2 tree: cgroup.freeze, every controller the root offers enabled, refusal of what it lacks', { skip: layout.unified ? false : 'no cgroup2 hierarchy' }, async () => {
  const dir = join(layout.unified, `${TOP}-v2/c`);
  const m = cg.loadCgroupManager({ '': dir });
  if (!layout.v2Controllers.has('pids')) {
    await assert.rejects(m.create({ pids: { limit: 5 } }), /linux\.resources\.pids: the pids \(v1\) or pids \(cgroup2\) controller is not available/);
    assert.ok(!existsSync(dir));
  }
  await m.create(undefined);
  try {
    // As runc and crun: every controller the root offers is enabled above the container, limits or not.
    assert.deepEqual(new Set(read(dir, 'cgroup.controllers').split(/\s+/).filter(Boolean)), layout.v2Controllers);
    if (layout.v2Controllers.has('pids')) assert.equal(read(dir, 'pids.max'), 'max');
    const c = await gatedShell('while :; do :; done');
    place(m.paths, c.pid);
    c.go();
    assert.deepEqual(await m.pids(), [c.pid]);
    await m.freeze();
    assert.equal(await m.isFrozen(), true);
    assert.match(read(dir, 'cgroup.events'), /frozen 1/);
    await m.thaw();
    assert.equal(await m.isFrozen(), false);
    c.kill('SIGKILL');
    await c.exited;
  } finally {
    await m.destroy();
  }
  assert.ok(!existsSync(dir) && !existsSync(join(layout.unified, `${TOP}-v2`)), 'the dirs create() made are gone');
});
