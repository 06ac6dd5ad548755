// The cgroupfs manager on this host's real cgroups: every resource field the
// host supports is read back from cgroupfs; limits act on real processes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cg, cleanup, gatedShell, open, read, topDirs, uniquePath, waitFor, TOP } from './helpers.mjs';

after(cleanup);

const MiB = 1024 * 1024;
// tail -c keeps the last N bytes of an endless pipe in memory: it grows to N (or until killed).
const HOG = (bytes) => `cat /dev/zero | tail -c ${bytes}`;
// The host's first block device, for per-device blkio rules.
const [blkMajor, blkMinor] = readFileSync('/proc/partitions', 'utf8')
  .split('\n')
  .slice(2)
  .map((l) => l.trim().split(/\s+/))
  .filter((f) => f.length === 4 && !/^(loop|ram|zram)/.test(f[3]))[0]
  .slice(0, 2)
  .map(Number);

test('paths: one directory per v1 hierarchy (cpu and cpuacct apart, name=systemd) plus cgroup2', async () => {
  const m = await open('paths');
  for (const key of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd', '']) {
    assert.ok(m.paths[key], `no path for ${key || 'cgroup2'}`);
    assert.ok(m.paths[key].endsWith(`/${TOP}/paths-1`), m.paths[key]);
  }
  assert.equal(m.paths.cpu, `/sys/fs/cgroup/cpu/${TOP}/paths-1`);
  assert.equal(m.paths[''], `/sys/fs/cgroup/unified/${TOP}/paths-1`);
  assert.ok(!existsSync(m.paths.memory), 'nothing is created before create()');
});

test('relative cgroupsPath is under the runtime\'s own cgroup in each hierarchy; unset is /rocker/<id>', async () => {
  const own = new Map(
    readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => {
      const [, ctrl, path] = /^\d+:([^:]*):(.*)$/.exec(l);
      return [ctrl, path];
    }),
  );
  const paths = cg.cgroupPaths({ id: 'x', systemd: false, cgroupsPath: 'a/b' });
  assert.equal(paths.memory, join('/sys/fs/cgroup/memory', own.get('memory'), 'a/b'));
  assert.equal(paths.pids, join('/sys/fs/cgroup/pids', own.get('pids'), 'a/b'));
  assert.equal(cg.cgroupPaths({ id: 'abc', systemd: false }).memory, '/sys/fs/cgroup/memory/rocker/abc');
});

test('systemd slice:prefix:name maps to the cgroupfs path of its scope', () => {
  const p = (v) => cg.cgroupPaths({ id: 'i', systemd: true, cgroupsPath: v }).pids;
  assert.equal(p('system.slice:docker:abc'), '/sys/fs/cgroup/pids/system.slice/docker-abc.scope');
  assert.equal(p('a-b.slice:crio:x'), '/sys/fs/cgroup/pids/a.slice/a-b.slice/crio-x.scope');
  assert.equal(p('machine.slice:libpod:c1'), '/sys/fs/cgroup/pids/machine.slice/libpod-c1.scope');
  assert.equal(cg.cgroupPaths({ id: 'i', systemd: true }).pids, '/sys/fs/cgroup/pids/system.slice/rocker-i.scope');
  assert.throws(() => p('/not/systemd'), /slice:prefix:name/);
  assert.throws(() => p('a--b.slice:x:y'), /invalid slice name/);
});

test('a cgroupsPath escaping the root is refused and creates nothing', async () => {
  for (const bad of ['/../../etc', '../../..', `/${TOP}/../../x`]) {
    await assert.rejects(cg.openCgroupManager({ id: 'e', systemd: false, cgroupsPath: bad }), /linux\.cgroupsPath.*escapes the cgroup root/);
  }
  assert.deepEqual(topDirs().filter(existsSync), []);
});

test('every field the host supports is written and reads back from cgroupfs', async () => {
  const m = await open('all');
  await m.create({
    memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB, swappiness: 20, disableOOMKiller: false, kernelTCP: 16 * MiB },
    cpu: { shares: 512, quota: 20000, period: 50000, burst: 10000, cpus: '0', mems: '0', idle: 0 },
    pids: { limit: 42 },
    blockIO: {
      weight: 300,
      throttleReadBpsDevice: [{ major: blkMajor, minor: blkMinor, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: blkMajor, minor: blkMinor, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: blkMajor, minor: blkMinor, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: blkMajor, minor: blkMinor, rate: 200 }],
    },
    hugepageLimits: [{ pageSize: '2MB', limit: 8 * MiB }],
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }],
  });
  const p = m.paths;
  assert.equal(read(p.memory, 'memory.limit_in_bytes'), String(64 * MiB));
  assert.equal(read(p.memory, 'memory.soft_limit_in_bytes'), String(32 * MiB));
  assert.equal(read(p.memory, 'memory.memsw.limit_in_bytes'), String(96 * MiB));
  assert.equal(read(p.memory, 'memory.swappiness'), '20');
  assert.equal(read(p.memory, 'memory.kmem.tcp.limit_in_bytes'), String(16 * MiB));
  assert.match(read(p.memory, 'memory.oom_control'), /oom_kill_disable 0/);
  assert.equal(read(p.cpu, 'cpu.shares'), '512');
  assert.equal(read(p.cpu, 'cpu.cfs_quota_us'), '20000');
  assert.equal(read(p.cpu, 'cpu.cfs_period_us'), '50000');
  assert.equal(read(p.cpu, 'cpu.cfs_burst_us'), '10000');
  assert.equal(read(p.cpu, 'cpu.idle'), '0');
  assert.equal(read(p.cpuset, 'cpuset.cpus'), '0');
  assert.equal(read(p.cpuset, 'cpuset.mems'), '0');
  assert.equal(read(p.pids, 'pids.max'), '42');
  assert.equal(read(p.blkio, 'blkio.bfq.weight').split('\n').pop().trim().split(/\s+/).pop(), '300');
  const dev = `${blkMajor}:${blkMinor}`;
  assert.equal(read(p.blkio, 'blkio.throttle.read_bps_device'), `${dev} 1048576`);
  assert.equal(read(p.blkio, 'blkio.throttle.write_bps_device'), `${dev} 2097152`);
  assert.equal(read(p.blkio, 'blkio.throttle.read_iops_device'), `${dev} 100`);
  assert.equal(read(p.blkio, 'blkio.throttle.write_iops_device'), `${dev} 200`);
  // hugetlb is only a cgroup2 controller here: the limit lands in the unified tree.
  assert.equal(read(p[''], 'hugetlb.2MB.max'), String(8 * MiB));
  const devices = read(p.devices, 'devices.list').split('\n');
  assert.ok(devices.includes('c 1:3 rwm'), 'the default /dev/null rule follows the config rules');
  assert.ok(devices.includes('c 136:* rwm') && devices.includes('c *:* m'));
  assert.ok(!devices.includes('a *:* rwm'), 'deny-all took effect');
  await m.destroy();
  for (const d of Object.values(p)) assert.ok(!existsSync(d), `${d} removed`);
});

test('realtime CPU, disableOOMKiller and unified keys read back', async () => {
  // A realtime budget needs one on every ancestor, so this cgroup sits right under the root.
  const m = await cg.openCgroupManager({ id: 'rt', systemd: false, cgroupsPath: `/${TOP}-rt` });
  try {
    await m.create({
      cpu: { realtimePeriod: 1000000, realtimeRuntime: 5000 },
      memory: { limit: 32 * MiB, disableOOMKiller: true },
      unified: { 'hugetlb.2MB.max': String(4 * MiB) },
    });
    assert.equal(read(m.paths.cpu, 'cpu.rt_period_us'), '1000000');
    assert.equal(read(m.paths.cpu, 'cpu.rt_runtime_us'), '5000');
    assert.match(read(m.paths.memory, 'memory.oom_control'), /oom_kill_disable 1/);
    assert.equal(read(m.paths[''], 'hugetlb.2MB.max'), String(4 * MiB));
  } finally {
    await m.destroy();
  }
  assert.ok(!existsSync(m.paths.cpu));
});

test('addProcess places a process in every hierarchy; pids() lists it and sub-cgroups', async () => {
  const m = await open('procs');
  await m.create(undefined);
  const c = await gatedShell('exec sleep 60');
  await m.addProcess(c.pid);
  for (const [key, dir] of Object.entries(m.paths)) {
    assert.ok(read(dir, 'cgroup.procs').split('\n').includes(String(c.pid)), `pid in ${key || 'cgroup2'}`);
  }
  assert.deepEqual(await m.pids(), [c.pid]);
  c.kill('SIGKILL');
  await c.exited;
  assert.deepEqual(await m.pids(), []);
  await m.destroy();
  assert.ok(!existsSync(m.paths.pids));
});

test('a memory hog is OOM-killed at the memory limit and the kill is counted', async () => {
  const m = await open('oom');
  await m.create({ memory: { limit: 32 * MiB, swap: 32 * MiB } });
  const c = await gatedShell(HOG(500000000));
  await m.addProcess(c.pid);
  c.go();
  const { code } = await c.exited;
  assert.equal(code, 128 + 9, 'the hog died of SIGKILL');
  const stats = await m.stats();
  assert.equal(stats.memory.usage.max, 32 * MiB, 'usage peaked at the limit');
  assert.match(read(m.paths.memory, 'memory.oom_control'), /oom_kill [1-9]/);
});

test('a fork bomb stops at the pids limit', async () => {
  const m = await open('forkbomb');
  await m.create({ pids: { limit: 8 } });
  // The subshell gives up at the first failed fork, leaving its sleeps behind.
  const c = await gatedShell('(for i in $(seq 40); do sleep 30 & done); sleep 30');
  await m.addProcess(c.pid);
  c.go();
  await waitFor(() => /max [1-9]/.test(read(m.paths.pids, 'pids.events')), 'pids.events max');
  const current = Number(read(m.paths.pids, 'pids.current'));
  assert.ok(current <= 8, `pids.current ${current} <= 8`);
  const pids = await m.pids();
  assert.ok(pids.length > 1 && pids.length <= 8, `${pids.length} processes`);
  for (const pid of await m.pids()) process.kill(pid, 'SIGKILL');
  await c.exited;
});

test('freeze stops the processes (CPU time stops advancing); thaw lets them go on', async () => {
  const m = await open('freeze');
  await m.create({ cpu: { quota: 10000, period: 100000 } });
  const c = await gatedShell('while :; do :; done');
  await m.addProcess(c.pid);
  c.go();
  const usage = () => Number(read(m.paths.cpuacct, 'cpuacct.usage'));
  await waitFor(() => usage() > 0, 'the loop to run');
  await m.freeze();
  assert.equal(await m.isFrozen(), true);
  const frozenAt = usage();
  await sleep(300);
  assert.equal(usage(), frozenAt, 'no CPU time while frozen');
  await m.thaw();
  assert.equal(await m.isFrozen(), false);
  await waitFor(() => usage() > frozenAt, 'CPU time to advance after thaw');
  c.kill('SIGKILL');
  await c.exited;
});

test('update changes the limits of a cgroup with a running process', async () => {
  const m = await open('update');
  await m.create({ memory: { limit: 64 * MiB }, pids: { limit: 10 }, cpu: { shares: 256 } });
  const c = await gatedShell('exec sleep 60');
  await m.addProcess(c.pid);
  await m.update({ memory: { limit: 128 * MiB, swap: 256 * MiB }, pids: { limit: 20 }, cpu: { shares: 1024, cpus: '1' } });
  assert.equal(read(m.paths.memory, 'memory.limit_in_bytes'), String(128 * MiB));
  assert.equal(read(m.paths.memory, 'memory.memsw.limit_in_bytes'), String(256 * MiB));
  assert.equal(read(m.paths.pids, 'pids.max'), '20');
  assert.equal(read(m.paths.cpu, 'cpu.shares'), '1024');
  assert.equal(read(m.paths.cpuset, 'cpuset.cpus'), '1');
  // Lowering memory+swap below the new limit in one update is ordered so the kernel accepts it.
  await m.update({ memory: { limit: 16 * MiB, swap: 16 * MiB }, pids: { limit: -1 } });
  assert.equal(read(m.paths.memory, 'memory.limit_in_bytes'), String(16 * MiB));
  assert.equal(read(m.paths.memory, 'memory.memsw.limit_in_bytes'), String(16 * MiB));
  assert.equal(read(m.paths.pids, 'pids.max'), 'max');
});

test('stats: memory usage grows when the processes allocate', async () => {
  const m = await open('stats');
  await m.create({ memory: { limit: 256 * MiB }, hugepageLimits: [{ pageSize: '2MB', limit: 2 * MiB }] });
  const c = await gatedShell(`${HOG(40000000)}; sleep 60`);
  await m.addProcess(c.pid);
  const before = (await m.stats()).memory.usage.usage;
  c.go();
  await waitFor(async () => (await m.stats()).memory.usage.usage > before + 20 * MiB, 'memory usage to grow by 20 MiB');
  const s = await m.stats();
  assert.equal(s.memory.usage.limit, 256 * MiB);
  assert.ok(s.cpu.usage.total > 0);
  assert.equal(s.pids.current, (await m.pids()).length, 'pids.current counts the processes');
  assert.deepEqual(s.hugetlb['2MB'], { usage: 0, max: 2 * MiB, failcnt: 0 });
});

test('an existing cgroup with processes is refused', async () => {
  const m = await open('busy');
  await m.create(undefined);
  const c = await gatedShell('exec sleep 60');
  await m.addProcess(c.pid);
  const again = await cg.loadCgroupManager(m.paths);
  await assert.rejects(again.create(undefined), /already exists and has processes/);
  assert.ok(existsSync(m.paths.memory), 'the existing cgroup is left alone');
});

test('a missing controller, a v1-only unified key and a kernel-rejected value fail clearly with nothing left behind', async () => {
  const cases = [
    [{ network: { classID: 7 } }, /linux\.resources\.network\.classID: the net_cls \(v1\) controller is not available/],
    [{ rdma: { mlx4_0: { hcaHandles: 2 } } }, /linux\.resources\.rdma: the rdma/],
    [{ unified: { 'memory.max': '1000000' } }, /linux\.resources\.unified\.memory\.max: memory is a cgroup v1 controller on this host/],
    [{ hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }, /hugepageLimits\[0\]\.pageSize: "3MB" is not a huge page size/],
    [{ memory: { swappiness: 101 } }, /memory\.swappiness: invalid value 101/],
    [{ pids: { limit: 5 }, cpu: { cpus: '64-65' } }, /write \/sys\/fs\/cgroup\/cpuset\/.*\/cpuset\.cpus: "64-65": (invalid argument|numerical result out of range)/],
    [{ memory: { limit: 64 * MiB, swap: 32 * MiB } }, /memory\.swap: memory\+swap limit/],
  ];
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
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(m.paths.memory, 'sub/inner'), { recursive: true });
  await m.destroy();
  assert.ok(!existsSync(m.paths.memory));
  assert.equal(uniquePath('x').startsWith(`/${TOP}/`), true);
});

test('a manager of only the cgroup2 tree: cgroup.freeze, pids, hugetlb, and refusal of what cgroup2 lacks here', async () => {
  const dir = `/sys/fs/cgroup/unified/${TOP}-v2/c`;
  const m = cg.loadCgroupManager({ '': dir });
  await assert.rejects(m.create({ pids: { limit: 5 } }), /linux\.resources\.pids: the pids \(v1\) or pids \(cgroup2\) controller is not available/);
  assert.ok(!existsSync(dir));
  await m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 2 * MiB }] });
  try {
    assert.equal(read(dir, 'hugetlb.2MB.max'), String(2 * MiB));
    const c = await gatedShell('while :; do :; done');
    await m.addProcess(c.pid);
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
  assert.ok(!existsSync(dir) && !existsSync(`/sys/fs/cgroup/unified/${TOP}-v2`), 'the dirs create() made are gone');
});
