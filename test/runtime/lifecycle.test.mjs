// The container lifecycle against real namespaces, mounts and cgroups: run,
// the create/start/kill/delete status walk compared with runc, what the
// container sees, hooks, pid files, list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readlinkSync, existsSync, writeFileSync, chmodSync, symlinkSync, openSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateState } from '../../dist/schemas/validators.js';
import { rt, rtDetached, runCmd, runDetached, tempDir, uniqueId, cgroupDirsFor, RUNTIME, suiteFixture, waitStatus } from './helpers.mjs';

const { root, runcRoot, dirs, bundle } = suiteFixture();



function assertGone(id) {
  assert.equal(existsSync(join(root, id)), false, 'state dir removed');
  assert.deepEqual(cgroupDirsFor(id), [], 'cgroups removed');
}

test('run prints the output and returns the exit code, then leaves nothing', async () => {
  const id = uniqueId('run');
  const r = await rt(root, ['run', '--bundle', bundle(['sh', '-c', 'echo hello from $$; exit 3']), id]);
  assert.equal(r.stdout, 'hello from 1\n');
  assert.equal(r.code, 3, r.stderr);
  assertGone(id);
});

test('run returns 128+N when the container is killed by signal N', async () => {
  const id = uniqueId('run');
  const child = spawn(process.execPath, [RUNTIME, '--root', root, 'run', '-b', bundle(['sh', '-c', 'echo up; sleep 100']), id], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit'); // listening from the start: the exit may come before `kill` returns
  await once(child.stdout, 'data');
  assert.equal((await rt(root, ['kill', id, 'KILL'])).code, 0);
  const [code] = await exited;
  assert.equal(code, 137);
  assertGone(id);
});

test('run forwards SIGTERM to the container', async () => {
  const id = uniqueId('run');
  const b = bundle(['sh', '-c', 'trap "exit 42" TERM; echo up; while :; do sleep 0.05; done']);
  const child = spawn(process.execPath, [RUNTIME, '--root', root, 'run', '-b', b, id], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 42);
});

/** create, state, start, state, kill, state, delete, state: statuses and state field names. */
async function statusWalk(call, b, id) {
  const seen = [];
  const state = async () => {
    const r = await call(['state', id]);
    if (r.code !== 0) return { status: 'gone', keys: [] };
    const s = JSON.parse(r.stdout);
    assert.equal(validateState(s), true, JSON.stringify(validateState.errors));
    return { status: s.status, keys: Object.keys(s), pid: s.pid };
  };
  const created = await call(['create', '--bundle', b, id], true);
  assert.equal(created.code, 0, created.stderr);
  seen.push(await state());
  assert.equal((await call(['start', id])).code, 0);
  seen.push(await state());
  assert.equal((await call(['kill', id, 'KILL'])).code, 0);
  await waitStatus(call, id, 'stopped');
  seen.push(await state());
  assert.equal((await call(['delete', id])).code, 0);
  seen.push(await state());
  return seen;
}

test('create/start/kill/delete walk the statuses exactly as runc does', async () => {
  const b = bundle(['sleep', '100']);
  const mine = await statusWalk((args, detached) => (detached ? rtDetached : rt)(root, args), b, uniqueId('walk'));
  const runcCall = (args, detached) =>
    (detached ? runDetached : runCmd)('runc', ['--root', runcRoot, ...args]);
  const theirs = await statusWalk(runcCall, b, uniqueId('walk-runc'));
  assert.deepEqual(mine.map((s) => s.status), ['created', 'running', 'stopped', 'gone']);
  assert.deepEqual(mine.map((s) => s.status), theirs.map((s) => s.status));
  assert.deepEqual(mine.map((s) => s.keys), theirs.map((s) => s.keys));
  assert.ok(mine[0].pid > 0 && mine[1].pid === mine[0].pid && mine[2].pid === 0);
});

test('the container sees its pid 1, hostname, uid, capabilities, rlimits and mounts as configured', async () => {
  const shared = tempDir('shared');
  dirs.push(shared);
  chmodSync(shared, 0o755);
  writeFileSync(join(shared, 'file'), 'from the host\n', { mode: 0o644 });
  const script = [
    'echo pid=$$',
    'echo host=$(hostname)',
    'echo ids=$(id -u):$(id -g):$(id -G)',
    'grep CapEff /proc/self/status',
    'echo nofile=$(ulimit -n)',
    'cat /mnt/file',
    'grep -c " /tmp tmpfs " /proc/mounts',
    'touch /mnt/x 2>/dev/null && echo data=rw || echo data=ro',
  ].join('; ');
  const b = bundle(['sh', '-c', script], (c) => {
    c.hostname = 'inside-test';
    c.process.user = { uid: 0, gid: 1001, additionalGids: [2000] };
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }];
    c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
    c.mounts.push({ destination: '/mnt', type: 'bind', source: shared, options: ['rbind', 'ro'] });
  });
  const r = await rt(root, ['run', '-b', b, uniqueId('see')]);
  assert.equal(r.code, 0, r.stderr);
  // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10); runc prints exactly this for the same bundle.
  assert.equal(
    r.stdout,
    'pid=1\nhost=inside-test\nids=0:1001:1001 2000\nCapEff:\t0000000020000420\nnofile=512\nfrom the host\n1\ndata=ro\n',
  );
});

test('hooks run at their points with the state on stdin; poststop runs in delete', async () => {
  const out = tempDir('hooks');
  dirs.push(out);
  const hook = (name) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/${name}.json`], timeout: 10 });
  const id = uniqueId('hooks');
  const annotations = { 'org.example.hooks': 'state on stdin' };
  const b = bundle(['true'], (c) => {
    c.annotations = annotations;
    c.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
  });
  const r = await rt(root, ['run', '-b', b, id]);
  assert.equal(r.code, 0, r.stderr);
  const read = (n) => JSON.parse(readFileSync(join(out, `${n}.json`), 'utf8'));
  // The spec's lifecycle: prestart and createRuntime run once the container is created
  // (crun gives them "created"; runc's "creating" is not a status they may see).
  for (const [name, status] of [['prestart', 'created'], ['createRuntime', 'created'], ['poststart', 'running'], ['poststop', 'stopped']]) {
    const st = read(name);
    assert.equal(validateState(st), true, `${name}: ${JSON.stringify(validateState.errors)}`);
    assert.equal(st.id, id, name);
    assert.equal(st.status, status, name);
    assert.equal(st.bundle, b, name);
    assert.deepEqual(st.annotations, annotations, name);
  }
  assert.ok(read('prestart').pid > 0);
  assert.equal(read('createRuntime').pid, read('prestart').pid);
  assert.equal(read('poststart').pid, read('prestart').pid);
});

test('a failing prestart hook fails create and leaves nothing behind', async () => {
  const id = uniqueId('hookfail');
  const b = bundle(['sleep', '100'], (c) => {
    c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 2'] }] };
  });
  const log = join(b, 'log.json');
  const r = await rtDetached(root, ['--log', log, '--log-format', 'json', 'create', '-b', b, id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /prestart hook #0 .*exit status 2.*stderr: nope/);
  const last = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.level === 'error').at(-1);
  assert.match(last.msg, /prestart hook #0/);
  assertGone(id);
});

test('create writes the pid file without a newline; list shows the container', async () => {
  const id = uniqueId('list');
  const b = bundle(['sleep', '100']);
  const pidFile = join(b, 'init.pid');
  assert.equal((await rtDetached(root, ['create', '-b', b, '--pid-file', pidFile, id])).code, 0);
  const pidText = readFileSync(pidFile, 'utf8');
  assert.match(pidText, /^\d+$/);
  const state = JSON.parse((await rt(root, ['state', id])).stdout);
  assert.equal(Number(pidText), state.pid);
  const table = (await rt(root, ['list'])).stdout.split('\n');
  assert.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
  assert.ok(table.some((l) => new RegExp(`^${id}\\s+${state.pid}\\s+created\\s+${b}\\s+\\S+\\s+root$`).test(l)), table.join('\n'));
  const json = JSON.parse((await rt(root, ['list', '--format', 'json'])).stdout);
  assert.deepEqual(json.find((s) => s.id === id), { ...state, owner: 'root' });
  assert.ok((await rt(root, ['list', '-q'])).stdout.split('\n').includes(id));
  // The spec: deleting a container that is not stopped is an error (runc lets a created one go).
  const refused = await rt(root, ['delete', id]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`cannot delete container ${id} that is not stopped: created`));
  assert.equal((await rt(root, ['state', id])).code, 0, 'still there');
  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
  assertGone(id);
});

test('create leaves an exec fifo of mode 0622 owned by the host ids of the container\'s root, as runc', async () => {
  const map = [{ containerID: 0, hostID: 300000, size: 65536 }];
  const cases = [
    { ids: [0, 0], edit: () => {} },
    {
      ids: [300000, 300000],
      edit: (c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = map;
        c.linux.gidMappings = map;
        // sysfs and mqueue need more than a mapped root owns here; not what this is about.
        c.mounts = c.mounts.filter((m) => !m.destination.startsWith('/sys') && m.destination !== '/dev/mqueue');
      },
    },
  ];
  for (const { ids, edit } of cases) {
    const id = uniqueId('fifo');
    const b = bundle(['true'], edit);
    chmodSync(b, 0o755); // the mapped root walks into its rootfs
    const c = await rtDetached(root, ['create', '-b', b, id]);
    assert.equal(c.code, 0, c.stderr);
    const st = statSync(join(root, id, 'exec.fifo'));
    assert.ok(st.isFIFO());
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o622, ...ids]);
    assert.equal((await rt(root, ['start', id])).code, 0);
    await waitStatus((args) => rt(root, args), id, 'stopped');
    assert.equal((await rt(root, ['delete', id])).code, 0);
    assertGone(id);
  }
});

test('run -d returns once the process has exec\'d; one failing at execve is an error and leaves nothing', async () => {
  const id = uniqueId('rund');
  assert.equal((await rtDetached(root, ['run', '-d', '-b', bundle(['sleep', '100']), id])).code, 0);
  const { pid, status } = JSON.parse((await rt(root, ['state', id])).stdout);
  assert.equal(status, 'running');
  assert.equal(readlinkSync(`/proc/${pid}/exe`), '/bin/busybox', 'the user program, not nsexec');
  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
  const bad = uniqueId('rund');
  const b = bundle(['/bin/garbage']);
  writeFileSync(join(b, 'rootfs/bin/garbage'), 'not an executable format\n', { mode: 0o755 });
  const r = await rtDetached(root, ['run', '-d', '-b', b, bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /exec format error/);
  assertGone(bad);
});

test('delete refuses a running container without --force and kills it with', async () => {
  const id = uniqueId('del');
  assert.equal((await rtDetached(root, ['run', '-d', '-b', bundle(['sleep', '100']), id])).code, 0);
  const r = await rt(root, ['delete', id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`cannot delete container ${id} that is not stopped: running`));
  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
  assertGone(id);
});

test('start of a running container fails like runc', async () => {
  const id = uniqueId('start');
  assert.equal((await rtDetached(root, ['run', '-d', '-b', bundle(['sleep', '100']), id])).code, 0);
  const r = await rt(root, ['start', id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot start an already running container/);
  await rt(root, ['delete', '--force', id]);
});

test('exec: output and exit status, env/cwd/user flags, --process, detached with pid file, missing binary, stopped', async () => {
  const id = uniqueId('exec');
  const b = bundle(['sleep', '100']);
  assert.equal((await rtDetached(root, ['run', '-d', '-b', b, id])).code, 0);

  const plain = await rt(root, ['exec', id, 'sh', '-c', 'echo hi; exit 7']);
  assert.equal(plain.stdout, 'hi\n');
  assert.equal(plain.code, 7);

  // the exec'd process is in every cgroup of the container's init (nsexec's child placed itself)
  const initPid = JSON.parse((await rt(root, ['state', id])).stdout).pid;
  const cgroups = await rt(root, ['exec', id, 'cat', '/proc/self/cgroup']);
  assert.equal(cgroups.code, 0, cgroups.stderr);
  assert.equal(cgroups.stdout, readFileSync(`/proc/${initPid}/cgroup`, 'utf8'));
  // exec --cgroup into sub-cgroups, on any layout: test/cgroups/exec.test.mjs
  // rocker applies no AppArmor profile or SELinux label: asking for one fails, as runc on such a host
  for (const [flag, text] of [['--apparmor', /AppArmor is not supported/], ['--process-label', /selinux is disabled or not supported/]]) {
    const r = await rt(root, ['exec', flag, 'some-profile', id, 'true']);
    assert.equal(r.code, 255);
    assert.match(r.stderr, text);
  }
  const escape = await rt(root, ['exec', '--cgroup', '../x', id, 'true']);
  assert.equal(escape.code, 255);
  assert.match(escape.stderr, /\.\.\/x is not a sub cgroup path/);

  const flags = await rt(root, ['exec', '-e', 'FOO=bar', '--cwd', '/tmp', '-u', '1000:1000', id, 'sh', '-c', 'echo $FOO $(pwd) $(id -u)']);
  assert.equal(flags.stdout, 'bar /tmp 1000\n', flags.stderr);

  const procFile = join(b, 'process.json');
  writeFileSync(procFile, JSON.stringify({ user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'echo from-process $$'], env: ['PATH=/bin'], cwd: '/' }));
  const viaFile = await rt(root, ['exec', '--process', procFile, id]);
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.match(viaFile.stdout, /^from-process \d+\n$/);

  const pidFile = join(b, 'exec.pid');
  const detached = await rtDetached(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100']);
  assert.equal(detached.code, 0, detached.stderr);
  const pid = readFileSync(pidFile, 'utf8');
  assert.match(pid, /^\d+$/);
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\x00100\x00$/);

  const missing = await rtDetached(root, ['exec', '-d', id, '/no/such/binary']);
  assert.equal(missing.code, 255);
  assert.match(missing.stderr, /no such file or directory/i);

  assert.equal((await rt(root, ['kill', id, 'KILL'])).code, 0);
  await waitStatus((args) => rt(root, args), id, 'stopped');
  const stopped = await rt(root, ['exec', id, 'true']);
  assert.equal(stopped.code, 255);
  assert.match(stopped.stderr, /cannot exec in a stopped container/);
  assert.equal((await rt(root, ['delete', id])).code, 0);
  assertGone(id);
});

test('a terminal run without a console socket relays the caller\'s tty', async () => {
  const b = bundle(['sh', '-c', 'tty; read x; echo got:$x; exit 5'], (c) => {
    c.process.terminal = true;
  });
  symlinkSync('busybox', join(b, 'rootfs', 'bin', 'tty'));
  // script(1) gives the runtime a terminal; its input reaches the container through the relay.
  const cmd = `${process.execPath} ${RUNTIME} --root ${root} run -b ${b} ${uniqueId('tty')}`;
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    if (/\/dev\/pts\/\d+/.test(out) && !child.stdin.writableEnded) child.stdin.end('hello\n');
  });
  const [code] = await exited;
  assert.match(out, /^\/dev\/pts\/0\r?$/m);
  assert.match(out, /got:hello/);
  assert.equal(code, 5);
});

test('nsexec failing mid-way (a bind mount of a missing source) fails create and leaves nothing', async () => {
  const id = uniqueId('badmount');
  const b = bundle(['true'], (c) => {
    c.mounts.push({ destination: '/mnt', type: 'bind', source: '/no/such/source', options: ['rbind'] });
  });
  const log = join(b, 'log.json');
  const r = await rtDetached(root, ['--log', log, '--log-format', 'json', 'create', '-b', b, id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/no\/such\/source/);
  const last = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.level === 'error').at(-1);
  assert.match(last.msg, /\/no\/such\/source/);
  assertGone(id);
});

test('a runtime killed with SIGKILL during create leaves what delete --force removes completely', async () => {
  const id = uniqueId('killed');
  const marks = tempDir('marks');
  dirs.push(marks);
  // The prestart hook stalls create after nsexec reported the init; it records its own pid to be cleaned up.
  const b = bundle(['sleep', '100'], (c) => {
    c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${marks}/hook.pid; exec sleep 30`] }] };
  });
  const child = spawn(process.execPath, [RUNTIME, '--root', root, 'create', '-b', b, id], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const hookPidFile = join(marks, 'hook.pid');
  for (let i = 0; i < 500 && !existsSync(hookPidFile); i++) await new Promise((res) => setTimeout(res, 10));
  const initPid = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).pid;
  assert.ok(initPid > 0, 'the init was reported before the hook ran');
  child.kill('SIGKILL');
  await exited;
  process.kill(Number(readFileSync(hookPidFile, 'utf8')), 'SIGKILL');

  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
  assertGone(id);
  const stat = (() => {
    try {
      return readFileSync(`/proc/${initPid}/stat`, 'utf8');
    } catch {
      return '';
    }
  })();
  assert.ok(stat === '' || / [ZX] /.test(stat.slice(stat.lastIndexOf(')'))), `init ${initPid} is gone`);
});

test('a container whose init is not recorded yet is "creating"; delete refuses it, delete --force cleans it up', async () => {
  const id = uniqueId('creating');
  const work = tempDir('creating');
  dirs.push(work);
  // nsexec opens the network namespace to join before it reports the init's pid: a fifo holds it there.
  const gate = join(work, 'netns');
  execFileSync('mkfifo', [gate]);
  const b = bundle(['true'], (c) => {
    c.linux.namespaces = c.linux.namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: gate } : ns));
  });
  const creator = spawn(process.execPath, [RUNTIME, '--root', root, 'create', '--bundle', b, id], { stdio: 'ignore' });
  const exited = once(creator, 'exit');
  const status = async () => {
    const r = await rt(root, ['state', id]);
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout);
    assert.ok(validateState(st), JSON.stringify(validateState.errors));
    assert.equal(st.pid, 0);
    return st.status;
  };
  try {
    for (let i = 0; !existsSync(join(root, id, 'state.json')); i++) {
      assert.ok(i < 250, 'create wrote state.json');
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(await status(), 'creating');
    const listed = JSON.parse((await rt(root, ['list', '--format', 'json'])).stdout).find((c) => c.id === id);
    assert.equal(listed.status, 'creating');
    const k = await rt(root, ['kill', id, 'KILL']);
    assert.equal(k.code, 1);
    assert.match(k.stderr, /container not running/);
    // A creator killed mid-create leaves the container creating, with nobody to finish it.
    creator.kill('SIGKILL');
    await exited;
    assert.equal(await status(), 'creating');
    const d = await rt(root, ['delete', id]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, new RegExp(`cannot delete container ${id} that is not stopped: creating`));
    assert.ok(existsSync(join(root, id)));
    const f = await rt(root, ['delete', '--force', id]);
    assert.equal(f.code, 0, f.stderr);
    assertGone(id);
  } finally {
    creator.kill('SIGKILL');
    // Opening a fifo read-write never blocks; it releases an nsexec still waiting on it.
    closeSync(openSync(gate, 'r+'));
  }
});

test('paused shows in state and refuses exec; kill --all signals every process of the container', async () => {
  const id = uniqueId('pause');
  assert.equal((await rtDetached(root, ['run', '-d', '-b', bundle(['sleep', '100']), id])).code, 0);
  assert.equal((await rtDetached(root, ['exec', '-d', id, 'sleep', '100'])).code, 0);
  assert.equal((await rt(root, ['pause', id])).code, 0);
  assert.equal(JSON.parse((await rt(root, ['state', id])).stdout).status, 'paused');
  const ex = await rt(root, ['exec', id, 'true']);
  assert.equal(ex.code, 255);
  assert.match(ex.stderr, /cannot exec in a paused container/);
  assert.equal((await rt(root, ['resume', id])).code, 0);
  assert.equal(JSON.parse((await rt(root, ['state', id])).stdout).status, 'running');
  const pids = JSON.parse((await rt(root, ['ps', '--format', 'json', id])).stdout);
  assert.equal(pids.length, 2);
  assert.equal((await rt(root, ['kill', '--all', id, 'SIGKILL'])).code, 0);
  await waitStatus((args) => rt(root, args), id, 'stopped');
  assert.equal((await rt(root, ['delete', id])).code, 0);
  assertGone(id);
});

test('create --console-socket hands the pty master over; the container\'s stdio is the pty', async () => {
  const { buildConsoleReceiver, listenConsole } = await import('../nsexec/harness.mjs');
  const work = tempDir('console');
  dirs.push(work);
  const recv = buildConsoleReceiver(work);
  const sock = join(work, 'console.sock');
  const consoleClient = await listenConsole(recv, sock);
  const id = uniqueId('console');
  const b = bundle(['sh', '-c', 'tty; exit 4'], (c) => {
    c.process.terminal = true;
  });
  symlinkSync('busybox', join(b, 'rootfs', 'bin', 'tty'));
  const created = await rtDetached(root, ['create', '-b', b, '--console-socket', sock, id]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((await rt(root, ['start', id])).code, 0);
  await consoleClient.closed;
  assert.match(consoleClient.output(), /\/dev\/pts\/0/);
  await waitStatus((args) => rt(root, args), id, 'stopped');
  assert.equal((await rt(root, ['delete', id])).code, 0);
  assertGone(id);
});

test('a failing poststart or poststop hook is a warning: the other hooks run and the lifecycle goes on', async () => {
  const out = tempDir('hookwarn');
  dirs.push(out);
  const id = uniqueId('hookwarn');
  const append = (name) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> ${out}/ran`] });
  const fail = { path: '/bin/sh', args: ['sh', '-c', 'echo broken >&2; exit 3'] };
  const b = bundle(['sh', '-c', 'exit 4'], (c) => {
    c.hooks = { poststart: [fail, append('poststart')], poststop: [fail, append('poststop')] };
  });
  const log = join(out, 'log.json');
  const warnings = () => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.level === 'warning').map((l) => l.msg);
  const r = await rt(root, ['--log', log, '--log-format', 'json', 'run', '-b', b, id]);
  assert.equal(r.code, 4, r.stderr);
  const [poststart, poststop] = warnings();
  assert.match(poststart, /poststart hook #0 .*exit status 3.*stderr: broken/);
  assert.match(poststop, /poststop hook #0 .*exit status 3.*stderr: broken/);
  assert.equal(readFileSync(join(out, 'ran'), 'utf8'), 'poststart\npoststop\n');
  assertGone(id);

  // create/start: start succeeds despite the poststart failure, the container runs.
  const id2 = uniqueId('hookwarn');
  const b2 = bundle(['sleep', '100'], (c) => {
    c.hooks = { poststart: [fail] };
  });
  assert.equal((await rtDetached(root, ['create', '-b', b2, id2])).code, 0);
  const started = await rt(root, ['--log', log, '--log-format', 'json', 'start', id2]);
  assert.equal(started.code, 0, started.stderr);
  assert.match(warnings().at(-1), /poststart hook #0/);
  assert.equal(JSON.parse((await rt(root, ['state', id2])).stdout).status, 'running');
  assert.equal((await rt(root, ['delete', '--force', id2])).code, 0);
  assertGone(id2);
});

test('run --keep leaves the stopped container and its cgroups until delete', async () => {
  const id = uniqueId('keep');
  const r = await rt(root, ['run', '--keep', '-b', bundle(['sh', '-c', 'exit 5']), id]);
  assert.equal(r.code, 5, r.stderr);
  const st = JSON.parse((await rt(root, ['state', id])).stdout);
  assert.equal(st.status, 'stopped');
  assert.notDeepEqual(cgroupDirsFor(id), [], 'cgroups kept');
  assert.equal((await rt(root, ['delete', id])).code, 0);
  assertGone(id);
});

test('without process.binding nsexec is started with child_process: run -d, exec (output, status, -d with pid file), a failure', async () => {
  const pre = tempDir('nobinding');
  dirs.push(pre);
  const preload = join(pre, 'no-binding.cjs');
  writeFileSync(preload, "process.binding = () => { throw new Error('no bindings'); };\n");
  const call = (args, detached) => (detached ? runDetached : runCmd)(process.execPath, ['--require', preload, RUNTIME, '--root', root, ...args]);
  const id = uniqueId('nobinding');
  assert.equal((await call(['run', '-d', '-b', bundle(['sleep', '100']), id], true)).code, 0);
  const ex = await call(['exec', id, 'sh', '-c', 'echo hi; exit 5']);
  assert.equal(ex.stdout, 'hi\n');
  assert.equal(ex.code, 5);
  const pidFile = join(pre, 'pid');
  assert.equal((await call(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '100'], true)).code, 0);
  assert.match(readFileSync(pidFile, 'utf8'), /^\d+$/);
  const missing = await call(['exec', id, '/no/such/binary']);
  assert.equal(missing.code, 255);
  assert.match(missing.stderr, /no such file or directory/i);
  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
});
