// Rules of the runtime spec that runc and crun follow and the conformance suites
// check (issue 14): who owns the pty, how hooks inside the container are fed their
// state, rootfsPropagation, bind sources under user namespaces. Each compares
// with runc where runc is the reference.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, mkdirSync, writeFileSync, chmodSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { rt, rtDetached, runCmd, runDetached, tempDir, uniqueId, cgroupDirsFor, suiteFixture } from './helpers.mjs';
import { buildConsoleReceiver, listenConsole } from '../nsexec/harness.mjs';

const opts = { timeout: 120_000 };

const { root, runcRoot, dirs, bundle } = suiteFixture();


const rocker = (args, detached) => (detached ? rtDetached : rt)(root, args);
const runc = (args, detached) => (detached ? runDetached : runCmd)('runc', ['--root', runcRoot, ...args]);

/** create --console-socket, start, and what the container wrote on its pty. */
async function outputOnPty(call, b, id) {
  const work = tempDir('console');
  dirs.push(work);
  const sock = join(work, 'console.sock');
  const client = await listenConsole(buildConsoleReceiver(work), sock);
  const created = await call(['create', '-b', b, '--console-socket', sock, id], true);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((await call(['start', id])).code, 0);
  await client.closed;
  await call(['delete', '--force', id]);
  return client.output().replace(/^ready\n/, '').replace(/\r/g, '');
}

test('a terminal is owned by process.user.uid, its group stays the tty group, as with runc', opts, async () => {
  const b = bundle(['sh', '-c', 'stat -c %u:%g $(tty)'], (c) => {
    c.process.terminal = true;
    c.process.user = { uid: 1000, gid: 100 };
  });
  for (const applet of ['stat', 'tty']) symlinkSync('busybox', join(b, 'rootfs', 'bin', applet));
  const mine = await outputOnPty(rocker, b, uniqueId('ptyown'));
  assert.match(mine, /^1000:5$/m);
  assert.equal(mine, await outputOnPty(runc, b, uniqueId('ptyown-runc')));
});

test('exec -t --user gives the new pty to that user', opts, async () => {
  const id = uniqueId('ptyexec');
  const b = bundle(['sleep', '100']);
  for (const applet of ['stat', 'tty']) symlinkSync('busybox', join(b, 'rootfs', 'bin', applet));
  assert.equal((await rtDetached(root, ['run', '-d', '-b', b, id])).code, 0);
  const work = tempDir('console');
  dirs.push(work);
  const sock = join(work, 'console.sock');
  const client = await listenConsole(buildConsoleReceiver(work), sock);
  const r = await rtDetached(root, ['exec', '-t', '--console-socket', sock, '--user', '1234:100', id, 'sh', '-c', 'stat -c %u:%g $(tty)']);
  assert.equal(r.code, 0, r.stderr);
  await client.closed;
  assert.match(client.output(), /^1234:5\r?$/m);
  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
  assert.deepEqual(cgroupDirsFor(id), []);
});

// createContainer hooks run in nsexec, inside the container; the state is about
// 200 KiB here (annotations), more than a pipe holds, so the writer has to wait.
const bigAnnotations = { 'org.example.big': 'x'.repeat(200 * 1024) };

test('a createContainer hook that exits without reading its stdin does not break create', opts, async () => {
  const id = uniqueId('hooknoread');
  const b = bundle(['true'], (c) => {
    // Without a pid namespace: a namespace's init is spared SIGPIPE by the kernel anyway.
    c.linux.namespaces = c.linux.namespaces.filter((n) => n.type !== 'pid');
    c.annotations = bigAnnotations;
    c.hooks = { createContainer: [{ path: '/bin/true' }] };
  });
  const r = await rt(root, ['run', '-b', b, id]);
  assert.equal(r.code, 0, r.stderr);
});

test('a createContainer hook that never reads is killed at its timeout and fails create', opts, async () => {
  const id = uniqueId('hookstuck');
  const b = bundle(['true'], (c) => {
    c.annotations = bigAnnotations;
    c.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '60'], timeout: 1 }] };
  });
  const t0 = Date.now();
  const r = await rt(root, ['run', '-b', b, id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /createContainer hook #0 \(\/bin\/sleep\): error running hook: timeout after 1 seconds/);
  assert.ok(Date.now() - t0 < 30_000, 'the timeout applied');
  assert.deepEqual(cgroupDirsFor(id), []);
});

test('rootfsPropagation gives the container\'s root mount that propagation (spec: shared, slave, private, unbindable)', opts, async () => {
  // Inside: bind / recursively onto /t, then mount a tmpfs on /m; a shared root shows it
  // at /t/m too, the others do not; an unbindable root refuses the bind (EINVAL).
  const script = [
    'mkdir -p /t /m',
    'if ! mount -o rbind / /t 2>/dev/null; then echo bind-refused; exit 0; fi',
    'mount -t tmpfs none /m && touch /m/f',
    'if [ -e /t/m/f ]; then echo propagated; else echo isolated; fi',
    'grep -E "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / " /proc/self/mountinfo | grep -q "shared:" && echo root-shared || echo root-not-shared',
  ].join('\n');
  const expected = {
    shared: 'propagated\nroot-shared\n',
    rshared: 'propagated\nroot-shared\n',
    slave: 'isolated\nroot-not-shared\n',
    private: 'isolated\nroot-not-shared\n',
    unbindable: 'bind-refused\n',
  };
  for (const [value, out] of Object.entries(expected)) {
    const b = bundle(['sh', '-c', script], (c) => {
      c.linux.rootfsPropagation = value;
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_ADMIN');
    });
    const id = uniqueId('prop');
    const r = await rt(root, ['run', '-b', b, id]);
    assert.equal(r.code, 0, `${value}: ${r.stderr}`);
    assert.equal(r.stdout, out, value);
    assert.deepEqual(cgroupDirsFor(id), []);
  }
});

test('user namespace: bind sources behind a directory only the host\'s root may enter are mounted, as with runc', opts, async () => {
  const src = tempDir('userns-src');
  dirs.push(src);
  for (const n of ['1', '2']) {
    mkdirSync(join(src, `inaccessible-${n}`, 'dir'), { recursive: true });
    writeFileSync(join(src, `inaccessible-${n}`, 'dir', 'foo.txt'), `secret ${n}\n`);
    chmodSync(join(src, `inaccessible-${n}`), 0o700);
  }
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const b = bundle(['sh', '-c', 'cat /tmp/mount-1/foo.txt /tmp/mount-2/foo.txt'], (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = map;
    c.linux.gidMappings = map;
    // sysfs and mqueue need more than a mapped root owns here; not what this is about.
    c.mounts = c.mounts.filter((m) => !m.destination.startsWith('/sys') && m.destination !== '/dev/mqueue');
    for (const n of ['1', '2']) c.mounts.push({ source: join(src, `inaccessible-${n}`, 'dir'), destination: `/tmp/mount-${n}`, options: ['bind'] });
  });
  chmodSync(b, 0o711); // the rootfs itself must be reachable by the mapped root,
  for (const n of ['1', '2']) mkdirSync(join(b, 'rootfs', 'tmp', `mount-${n}`)); // and its ids are the host's
  const mine = await rt(root, ['run', '-b', b, uniqueId('userns-bind')]);
  assert.equal(mine.code, 0, mine.stderr);
  assert.equal(mine.stdout, 'secret 1\nsecret 2\n');
  const theirs = await runCmd('runc', ['--root', runcRoot, 'run', '-b', b, uniqueId('userns-bind-runc')]);
  assert.equal(theirs.code, 0, theirs.stderr);
  assert.equal(mine.stdout, theirs.stdout);
  // The host's own tree is untouched: nothing the container did propagated back.
  assert.deepEqual(readdirSync(join(src, 'inaccessible-1', 'dir')), ['foo.txt']);
});

test('createContainer hooks start in the rootfs, as with runc (relative paths are the container\'s)', opts, async () => {
  const b = bundle(['true'], (c) => {
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'pwd > ./hook-cwd'] }] };
  });
  const r = await rt(root, ['run', '-b', b, uniqueId('hookcwd')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(b, 'rootfs', 'hook-cwd'), 'utf8'), `${realpathSync(join(b, 'rootfs'))}\n`);
});
