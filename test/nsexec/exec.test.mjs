// nsexec create (detached, exec fifo) followed by exec into the running container.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { openSync, readSync, closeSync, readFileSync, readlinkSync, statSync, writeFileSync, rmSync, constants } from 'node:fs';
import { join } from 'node:path';
import { makeRootfs, initMessage, drive, eventOf, mountsUnder, killAndWait, buildConsoleReceiver, listenConsole, testCgroups } from './harness.mjs';

let fx;
let pid;
const namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }];

before(async () => {
  fx = makeRootfs();
  // nsexec makes the fifo itself
  const fifo = join(fx.dir, 'exec.fifo');
  // a non-root init: it reopens the fifo after the user switch
  const init = initMessage(fx.rootfs, ['sleep', '300'], {
    foreground: false, execFifo: fifo, hostname: 'joined', linux: { namespaces }, process: { user: { uid: 1000, gid: 1000 } },
  });
  const r = await drive(init, { stdio: ['ignore', 'ignore', 'ignore'], until: 'created' });
  assert.deepEqual(r.events.map((e) => e.type), ['pid', 'sync', 'created'], JSON.stringify(r.events));
  pid = eventOf(r, 'pid').pid;
  const st = statSync(fifo);
  assert.ok(st.isFIFO());
  assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o622, 0, 0], 'mode 0622 whatever the umask, host root\'s');
  // `start`, right after `created`: a non-blocking reader must never see EOF (the
  // init holds a write end), only "no data yet" until the byte comes
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const b = Buffer.alloc(1);
  const next = async () => {
    for (;;) {
      try { return readSync(fd, b); } catch (e) { assert.equal(e.code, 'EAGAIN'); await new Promise((r) => setTimeout(r, 5)); }
    }
  };
  assert.equal(await next(), 1, 'a byte, not EOF');
  assert.equal(b.toString(), '0');
  // then EOF, as the init's write end closes at execve: the tests below find sleep running
  assert.equal(await next(), 0);
  closeSync(fd);
});

after(async () => {
  if (pid) await killAndWait(pid);
  assert.deepEqual(mountsUnder(fx.dir), []);
  fx.cleanup();
});

const execInit = (args, over = {}) => ({
  ...initMessage(fx.rootfs, args, { linux: { namespaces } }), mode: 'exec', joinPid: pid, rootfs: undefined, mounts: undefined, ...over,
});

test('the reported pid is the host pid that exec\'d the user program', async () => {
  for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x00300\x00');
  assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync('/proc/self/ns/pid'));
});

test('exec joins the pid namespace, hostname and root of the container', async () => {
  const r = await drive(execInit(['sh', '-c', 'echo pid=$$; hostname; cat /proc/1/cmdline; echo; ls /; exit 3']));
  assert.deepEqual(r.events.map((e) => e.type), ['pid', 'running', 'exit'], JSON.stringify(r.events) + r.stderr);
  assert.equal(eventOf(r, 'exit').status, 3);
  assert.match(r.stdout, /^pid=\d+$/m);
  assert.doesNotMatch(r.stdout, /^pid=1$/m);
  assert.match(r.stdout, /^joined$/m);
  assert.match(r.stdout, /^sleep\x00300\x00$/m);
  assert.match(r.stdout, /^proc$/m);
});

test('exec with cgroups: the child places itself in every one, with no continue after pid', async () => {
  const cg = testCgroups(`rocker-nsexec-exec-${process.pid}`);
  cg.make();
  try {
    const r = await drive(execInit(['cat', '/proc/self/cgroup'], { cgroups: cg.cgroups }));
    assert.deepEqual(r.events.map((e) => e.type), ['pid', 'running', 'exit'], JSON.stringify(r.events) + r.stderr);
    for (const line of cg.lines) assert.match(r.stdout, line);
    const missing = await drive(execInit(['true'], { cgroups: cg.missing.cgroups }));
    assert.equal(eventOf(missing, 'error')?.stage, 'cgroup', JSON.stringify(missing.events));
    assert.equal(eventOf(missing, 'error').path, cg.missing.path);
  } finally {
    cg.remove();
  }
});

test('exec with seccompCache: the first compiles and keeps the program, later ones load it, a bad one is replaced', async () => {
  const cache = join(fx.dir, 'seccomp.bpf');
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] };
  const run = () => drive({ ...execInit(['sh', '-c', 'mkdir /tmp/cached; echo mkdir=$?; ls -d /tmp/cached'], { seccompCache: cache }), linux: { namespaces, seccomp } });
  const inodes = [];
  try {
    for (const step of ['compiled', 'cached', 'replaced']) {
      if (step === 'replaced') writeFileSync(cache, 'not a program');
      const r = await run();
      assert.equal(eventOf(r, 'exit')?.status, 1, `${step}: ${JSON.stringify(r.events)} ${r.stderr}`);
      assert.equal(r.stdout, 'mkdir=1\n', step);
      assert.match(r.stderr, /Function not implemented/, step);
      const st = statSync(cache);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal((st.size - 16) % 8, 0, `${step}: a header and whole instructions`);
      inodes.push(st.ino);
    }
    assert.equal(inodes[1], inodes[0], 'loaded, not written again');
    assert.notEqual(inodes[2], inodes[1], 'the bad file was replaced (renamed over)');
  } finally {
    rmSync(cache, { force: true });
  }
});

test('detached exec: pid, then EOF with no error', async () => {
  const r = await drive(execInit(['true'], { foreground: false }), { stdio: ['ignore', 'ignore', 'ignore'] });
  assert.deepEqual(r.events.map((e) => e.type), ['pid']);
  assert.equal(r.code, 0);
});

test('detached exec of a missing binary reports the error', async () => {
  const r = await drive(execInit(['/nonexistent'], { foreground: false }), { stdio: ['ignore', 'ignore', 'ignore'] });
  assert.equal(eventOf(r, 'error')?.message, 'exec: "/nonexistent": stat /nonexistent: no such file or directory');
});

test('detached exec with a terminal sends the pty master to the console socket (containerd exec -t)', async () => {
  const consoleClient = await listenConsole(buildConsoleReceiver(fx.dir), join(fx.dir, 'exec-console.sock'));
  const r = await drive(execInit(['sh', '-c', 'tty; echo done'], {
    foreground: false, consoleSocket: join(fx.dir, 'exec-console.sock'), process: { ...execInit([]).process, args: ['sh', '-c', 'tty; echo done'], terminal: true },
  }), { stdio: ['ignore', 'ignore', 'ignore'] });
  assert.deepEqual(r.events.map((e) => e.type), ['pid'], JSON.stringify(r.events));
  await consoleClient.closed;
  assert.match(consoleClient.output(), /^\/dev\/pts\/\d+\r\ndone\r$/m);
});

test('exec into a container with its own user namespace', async () => {
  const ufx = makeRootfs('rocker-nsexec-userns-exec-');
  let upid;
  try {
    execFileSync('chown', ['-R', '200000:200000', ufx.dir]);
    const map = [{ containerID: 0, hostID: 200000, size: 65536 }];
    const userNs = [...namespaces, { type: 'user' }];
    // nsexec makes the fifo 0622 and gives it to the mapped root, as runc does
    const ufifo = join(fx.dir, 'userns.fifo');
    const init = initMessage(ufx.rootfs, ['sleep', '300'], {
      foreground: false, hostname: 'userns', execFifo: ufifo, linux: { namespaces: userNs, uidMappings: map, gidMappings: map },
    });
    init.mounts = init.mounts.filter((m) => m.destination !== '/sys' && m.destination !== '/dev/mqueue');
    const c = await drive(init, { stdio: ['ignore', 'ignore', 'ignore'], until: 'created' });
    upid = eventOf(c, 'pid')?.pid;
    assert.ok(upid, JSON.stringify(c.events));
    const st = statSync(ufifo);
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o622, 200000, 200000]);
    assert.equal(readFileSync(ufifo, 'utf8'), '0', 'released: the byte, then EOF at execve');
    const r = await drive({ ...execInit(['sh', '-c', 'id -u; hostname; cat /proc/self/uid_map'], { joinPid: upid }), linux: { namespaces: userNs } });
    assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
    assert.match(r.stdout, /^0\nuserns\n\s+0\s+200000\s+65536\n$/);
  } finally {
    if (upid) await killAndWait(upid);
    assert.deepEqual(mountsUnder(ufx.dir), []);
    ufx.cleanup();
  }
});

test('exec into a noPivot container lands in its root', async () => {
  const nfx = makeRootfs('rocker-nsexec-nopivot-');
  let npid;
  try {
    writeFileSync(join(nfx.rootfs, 'nopivot-marker'), '');
    const init = initMessage(nfx.rootfs, ['sleep', '300'], { foreground: false, noPivot: true, hostname: 'nopivot', linux: { namespaces } });
    const c = await drive(init, { stdio: ['ignore', 'ignore', 'ignore'], until: 'created' });
    npid = eventOf(c, 'pid')?.pid;
    assert.ok(npid, JSON.stringify(c.events));
    const r = await drive({ ...execInit(['sh', '-c', 'hostname; ls /'], { joinPid: npid }) });
    assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
    assert.match(r.stdout, /^nopivot\n/);
    assert.match(r.stdout, /^proc$/m);
    assert.match(r.stdout, /^nopivot-marker$/m, 'the container root, not the mount namespace\'s');
  } finally {
    if (npid) await killAndWait(npid);
    assert.deepEqual(mountsUnder(nfx.dir), []);
    nfx.cleanup();
  }
});

test('an exec fifo path that already exists fails create before anything starts', async () => {
  const taken = join(fx.dir, 'taken.fifo');
  writeFileSync(taken, '');
  const r = await drive(initMessage(fx.rootfs, ['true'], { foreground: false, execFifo: taken }));
  const err = eventOf(r, 'error');
  assert.ok(err, JSON.stringify(r.events));
  assert.equal(err.stage, 'fifo');
  assert.equal(err.message, `exec fifo ${taken} already exists`);
  assert.equal(eventOf(r, 'pid'), undefined);
});
