// nsexec create/foreground: the container's view of itself after every set-up step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRootfs, initMessage, drive, eventOf, mountsUnder, testCgroups } from './harness.mjs';

let fx;
before(() => { fx = makeRootfs(); });
after(() => {
  assert.deepEqual(mountsUnder(fx.dir), [], 'no mount may be left on the host');
  fx.cleanup();
});

test('foreground run: pid 1, hostname, mounts, default devices, caps, ids, rlimits, masks', async () => {
  const script = [
    'echo pid=$$', 'echo host=$(hostname)', 'cat /proc/self/mounts',
    'echo null=$(stat -c %t:%T /dev/null) zero=$(stat -c %t:%T /dev/zero) tty=$(stat -c %t:%T /dev/tty)',
    'echo ptmx=$(readlink /dev/ptmx) fd=$(readlink /dev/fd)',
    'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status',
    'echo ids=$(id -u):$(id -g):$(id -G)', 'echo nofile=$(ulimit -n)', 'echo umask=$(umask)',
    'echo timer_list=$(stat -c %t:%T /proc/timer_list) acpi=$(ls -A /proc/acpi | wc -l)',
    'touch /proc/sys/kernel/x 2>/dev/null; echo sysro=$?',
    'touch /rootw 2>/dev/null; echo rootro=$?', 'echo cwd=$(pwd)', 'echo env=$FOO home=$HOME', 'echo oom=$(cat /proc/self/oom_score_adj) arch=$(uname -m)',
  ].join('; ');
  const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'];
  const init = initMessage(fx.rootfs, ['sh', '-c', script], {
    rootfsReadonly: true,
    process: {
      cwd: '/tmp', env: ['PATH=/bin', 'FOO=bar'], user: { uid: 1000, gid: 1001, additionalGids: [5, 7], umask: 0o027 },
      capabilities: { bounding: caps, permitted: caps, effective: caps.slice(0, 2), inheritable: caps.slice(0, 1), ambient: caps.slice(0, 1) },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }], oomScoreAdj: 123,
    },
    linux: { personality: { domain: 'LINUX32' } },
  });
  writeFileSync(join(fx.rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1001::/home/u1000:/bin/sh\n');
  const r = await drive(init);
  assert.deepEqual(r.events.map((e) => e.type), ['pid', 'sync', 'created', 'running', 'exit'], JSON.stringify(r.events) + r.stderr);
  assert.equal(eventOf(r, 'exit').status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^pid=1$/m);
  assert.match(out, /^host=nsx-test$/m);
  assert.match(out, /^proc \/proc proc /m);
  assert.match(out, /^tmpfs \/dev tmpfs /m);
  assert.match(out, /^devpts \/dev\/pts devpts .*ptmxmode=666/m);
  assert.match(out, /^mqueue \/dev\/mqueue mqueue /m);
  assert.match(out, /^sysfs \/sys sysfs ro,/m);
  assert.match(out, /^\S+ \/ \S+ ro[ ,]/m, 'root is read-only');
  assert.match(out, /^null=1:3 zero=1:5 tty=5:0$/m);
  assert.match(out, /^ptmx=pts\/ptmx fd=\/proc\/self\/fd$/m);
  // CHOWN=0 KILL=5 NET_BIND_SERVICE=10 SETGID=6 SETUID=7
  const bits = (...n) => n.reduce((a, b) => a | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0');
  assert.match(out, new RegExp(`^CapBnd:\\s+${bits(0, 5, 6, 7, 10)}$`, 'm'));
  assert.match(out, new RegExp(`^CapInh:\\s+${bits(0)}$`, 'm'));
  assert.match(out, new RegExp(`^CapAmb:\\s+${bits(0)}$`, 'm'));
  // a non-root exec keeps only the ambient set
  assert.match(out, new RegExp(`^CapPrm:\\s+${bits(0)}$`, 'm'));
  assert.match(out, new RegExp(`^CapEff:\\s+${bits(0)}$`, 'm'));
  assert.match(out, /^ids=1000:1001:1001 5 7$/m);
  assert.match(out, /^nofile=256$/m);
  assert.match(out, /^umask=0027$/m);
  assert.match(out, /^timer_list=1:3 acpi=0$/m);
  assert.match(out, /^sysro=1$/m);
  assert.match(out, /^rootro=1$/m);
  assert.match(out, /^cwd=\/tmp$/m);
  assert.match(out, /^oom=123 arch=i686$/m);
  assert.match(out, /^env=bar home=\/home\/u1000$/m, 'HOME comes from the container\'s /etc/passwd');
});

test('root process keeps exactly the configured sets', async () => {
  const caps = ['CAP_CHOWN', 'CAP_SYS_ADMIN'];
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status'], {
    process: { capabilities: { bounding: caps, permitted: caps, effective: caps } },
  }));
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  for (const set of ['Prm', 'Eff', 'Bnd']) assert.match(r.stdout, new RegExp(`^Cap${set}:\\s+0000000000200001$`, 'm'));
});

test('exit status passes through in foreground, signals as 128+n', async () => {
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'exit 7']));
  assert.deepEqual(eventOf(r, 'exit'), { type: 'exit', status: 7 });
  // outside a pid namespace: pid 1 of one ignores its own SIGKILL
  const k = await drive(initMessage(fx.rootfs, ['sh', '-c', 'kill -9 $$'], { hostname: undefined, linux: { namespaces: [{ type: 'mount' }] } }));
  assert.deepEqual(eventOf(k, 'exit'), { type: 'exit', status: 137, signal: 9 });
});

test('a missing binary is an exec error event in runc words', async () => {
  const r = await drive(initMessage(fx.rootfs, ['/nonexistent']));
  const err = eventOf(r, 'error');
  assert.ok(err, JSON.stringify(r.events));
  assert.equal(err.stage, 'exec');
  assert.equal(err.errno, 2);
  assert.equal(err.message, 'exec: "/nonexistent": stat /nonexistent: no such file or directory');
  assert.equal(eventOf(r, 'running'), undefined);
  assert.equal(eventOf(r, 'created'), undefined);
  assert.notEqual(r.code, 0);
  const p = await drive(initMessage(fx.rootfs, ['nosuchprog']));
  assert.equal(eventOf(p, 'error')?.message, 'exec: "nosuchprog": executable file not found in $PATH');
});

test('a bad mount is a mount error event with syscall, errno and path', async () => {
  const init = initMessage(fx.rootfs, ['true']);
  init.mounts.push({ destination: '/data', type: 'nosuchfs', source: 'none' });
  const r = await drive(init);
  const err = eventOf(r, 'error');
  assert.ok(err, JSON.stringify(r.events));
  assert.equal(err.stage, 'mount');
  assert.equal(err.syscall, 'mount');
  assert.equal(err.errnoName, 'ENODEV');
  assert.equal(err.path, '/data');
  assert.match(err.message, /^error mounting "none" to rootfs at "\/data": no such device$/);
});

test('mount destinations resolve inside the rootfs, never through a symlink out of it', async () => {
  const outside = join(fx.dir, 'outside');
  writeFileSync(join(fx.dir, 'src.txt'), 'hello');
  // climbing above the root is clamped to the root: /up/tmp/f is the container's /tmp/f
  symlinkSync('../../../../../../../..', join(fx.rootfs, 'up'));
  symlinkSync(outside, join(fx.rootfs, 'escape'));
  try {
    const init = initMessage(fx.rootfs, ['cat', '/tmp/f']);
    init.mounts.push({ destination: '/up/tmp/f', type: 'bind', source: join(fx.dir, 'src.txt'), options: ['rbind', 'ro'] });
    const r = await drive(init);
    assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
    assert.equal(r.stdout, 'hello');
    assert.equal(existsSync('/tmp/f'), false);
    // an absolute dangling link is followed inside the root, where it leads nowhere: refused
    const bad = initMessage(fx.rootfs, ['true']);
    bad.mounts.push({ destination: '/escape/f', type: 'bind', source: join(fx.dir, 'src.txt'), options: ['rbind'] });
    const b = await drive(bad);
    assert.equal(eventOf(b, 'error')?.stage, 'mount', JSON.stringify(b.events));
    assert.equal(existsSync(outside), false, 'nothing may be created outside the rootfs');
    // nothing but a procfs on /proc, and nothing over procfs files beyond lxcfs's few
    for (const [destination, message] of [['/proc', '/proc cannot be mounted because it is not of type proc'],
      ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/core_pattern cannot be mounted because it is inside /proc']]) {
      const m = initMessage(fx.rootfs, ['true']);
      m.mounts.push({ destination, type: 'bind', source: join(fx.dir, destination === '/proc' ? '' : 'src.txt'), options: ['rbind'] });
      assert.equal(eventOf(await drive(m), 'error')?.message, message);
    }
    const lxcfs = initMessage(fx.rootfs, ['cat', '/proc/uptime']);
    lxcfs.mounts.push({ destination: '/proc/uptime', type: 'bind', source: join(fx.dir, 'src.txt'), options: ['rbind'] });
    assert.equal((await drive(lxcfs)).stdout, 'hello');
  } finally {
    for (const f of ['up', 'escape', 'tmp/f']) rmSync(join(fx.rootfs, f), { force: true });
  }
});

test('preserveFds hands fds 3.. to the container and nothing else', async () => {
  let extra = '';
  let ended;
  const onSpawn = (child) => { ended = new Promise((resolve) => child.stdio[3].on('data', (d) => { extra += d; }).on('end', resolve)); };
  const w = await drive(initMessage(fx.rootfs, ['sh', '-c', 'echo to-fd3 >&3'], { preserveFds: 1 }), { preserve: 1, onSpawn });
  await ended;
  assert.equal(eventOf(w, 'exit')?.status, 0, JSON.stringify(w.events));
  assert.equal(extra, 'to-fd3\n');
  // once exec'd, the user program holds exactly its stdio and the preserved fd; it is
  // a cat of stdin, so it stays until its fds have been listed (not a timed sleep)
  let pid;
  let fds;
  let stdin;
  const r = await drive(initMessage(fx.rootfs, ['cat'], { preserveFds: 1 }), {
    preserve: 1,
    stdio: ['pipe', 'pipe', 'pipe'],
    onSpawn: (child) => { stdin = child.stdin; },
    onEvent: (ev) => {
      if (ev.type === 'pid') pid = ev.pid;
      if (ev.type === 'running') { fds = readdirSync(`/proc/${pid}/fd`).sort(); stdin.end(); }
    },
  });
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  assert.deepEqual(fds, ['0', '1', '2', '3']);
  const bad = await drive(initMessage(fx.rootfs, ['true'], { preserveFds: 1 }));
  assert.equal(eventOf(bad, 'error')?.stage, 'protocol', 'the sync fd may not be among the preserved ones');
});

test('init.cgroups: the child joins them itself before anything runs; no createRuntime stop when not asked for', async () => {
  const cg = testCgroups(`rocker-nsx-join-${process.pid}`);
  cg.make();
  try {
    const r = await drive(initMessage(fx.rootfs, ['cat', '/proc/self/cgroup'], { cgroups: cg.cgroups, createRuntimeSync: false }));
    assert.deepEqual(r.events.map((e) => e.type), ['pid', 'created', 'running', 'exit'], JSON.stringify(r.events) + r.stderr);
    for (const line of cg.lines) assert.match(r.stdout, line);
    // nsexec's parent (the monitor) stayed where it was
    assert.deepEqual(cg.dirs.map((d) => readFileSync(join(d, 'cgroup.procs'), 'utf8')), cg.dirs.map(() => ''));
    // a cgroup that cannot be opened fails before the clone, naming the file
    const bad = await drive(initMessage(fx.rootfs, ['true'], { cgroups: cg.missing.cgroups }));
    assert.deepEqual(bad.events.map((e) => e.type), ['error'], JSON.stringify(bad.events));
    assert.equal(bad.events[0].stage, 'cgroup');
    assert.equal(bad.events[0].path, cg.missing.path);
  } finally {
    cg.remove();
  }
});

test('an init of another protocol version, or another message first, is refused with a protocol error', async () => {
  for (const [init, message] of [
    [{ ...initMessage(fx.rootfs, ['true']), version: 999 }, /unsupported protocol version 999 \(nsexec speaks 1\)/],
    [{ type: 'continue' }, /expected an init message/],
  ]) {
    const r = await drive(init, { unchecked: 'a message the runtime never sends' });
    const err = eventOf(r, 'error');
    assert.equal(err?.stage, 'protocol', JSON.stringify(r.events));
    assert.match(err.message, message);
    assert.equal(eventOf(r, 'pid'), undefined, 'nothing started');
  }
});

test('nsexec --features reports the seccomp support of this build; a bad argument is a usage error', async () => {
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { NSEXEC } = await import('./harness.mjs');
  const f = JSON.parse(execFileSync(NSEXEC, ['--features'], { encoding: 'utf8' }));
  assert.equal(f.seccomp.enabled, true);
  assert.ok(f.seccomp.actions.includes('SCMP_ACT_ERRNO'));
  const bad = spawnSync(NSEXEC, ['not-an-fd'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^usage: nsexec <sync-fd>/);
});
