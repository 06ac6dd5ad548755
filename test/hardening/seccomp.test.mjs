// linux.seccomp through the whole runtime: the errno and kill actions act inside the
// container, and the filter comes after every set-up step (it blocks the very syscalls
// the set-up needs, yet the container starts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHarness, startAgent } from '../seccomp/harness.mjs';
import { config, makeBundle, runDetached, runOnce, runtimes, uniqueId } from './lib.mjs';

const allow = (syscalls) => ({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls });

/** Runs `mkdir` under a filter that notifies on it, with the test agent answering
 *  EXDEV; returns the run, the agent's message and all its output lines. */
async function runWithAgent(rt, id) {
  const dir = mkdtempSync(join(tmpdir(), 'hardening-notify-'));
  const socket = join(dir, 'agent.sock');
  const agent = await startAgent(buildHarness(dir), socket, 18);
  const b = makeBundle({
    args: ['mkdir', '/tmp/made'],
    linux: { seccomp: { ...allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: socket, listenerMetadata: 'agent-data' } },
  });
  try {
    const r = runOnce(rt, b, { id });
    const { code, lines } = await agent.done;
    assert.equal(code, 0);
    return { r, msg: JSON.parse(lines[1]), lines };
  } finally {
    agent.kill();
    b.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const rt of runtimes()) {
  describe(`seccomp (${rt.name})`, () => {

    for (const errnoRet of [38, 1]) {
      test(`SCMP_ACT_ERRNO errnoRet ${errnoRet} fails mkdir with that errno, other calls work`, () => {
        const b = makeBundle({
          args: ['sh', '-c', 'mkdir /tmp/made; echo mkdir=$?; echo data > /tmp/file && cat /tmp/file; ls -d /tmp/made'],
          linux: { seccomp: allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet }]) },
        });
        try {
          const r = runOnce(rt, b);
          assert.match(r.stdout, /mkdir=1\ndata\n/, r.stderr);
          assert.match(r.stderr, errnoRet === 38 ? /Function not implemented/ : /Operation not permitted/);
          assert.match(r.stderr, /ls: \/tmp\/made: No such file or directory/);
        } finally { b.remove(); }
      });
    }

    test('an exec\'d process gets the container\'s filter too', () => {
      const b = makeBundle({ args: ['sleep', '30'], linux: { seccomp: allow([
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['rmdir'], action: 'SCMP_ACT_KILL_PROCESS' },
      ]) } });
      const id = uniqueId('scexec');
      try {
        runDetached(rt, b, id);
        const r = rt.cmd(['exec', id, 'sh', '-c', 'mkdir /tmp/made; echo mkdir=$?; echo still-works']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'mkdir=1\nstill-works\n');
        assert.match(r.stderr, /Function not implemented/);
        assert.equal(rt.cmd(['exec', id, 'rmdir', '/tmp']).status, 128 + 31);
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });

    test('SCMP_ACT_KILL_PROCESS kills the process (status 159)', () => {
      const b = makeBundle({ args: ['rmdir', '/tmp'], linux: { seccomp: allow([{ names: ['rmdir'], action: 'SCMP_ACT_KILL_PROCESS' }]) } });
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 128 + 31, r.stderr);
      } finally { b.remove(); }
    });

    test('the filter is installed last: blocking the set-up syscalls does not stop the start', () => {
      // With noNewPrivileges the filter needs no privilege, so runc loads it last too.
      const setup = ['mount', 'umount2', 'pivot_root', 'chroot', 'sethostname', 'setns', 'unshare', 'capset',
        'setgroups', 'setresuid', 'setresgid', 'setuid', 'setgid', 'mknod', 'mknodat', 'symlink', 'symlinkat', 'prctl'];
      const b = makeBundle({
        args: ['sh', '-c', 'hostname; mount -t tmpfs none /tmp; echo mount=$?'],
        noNewPrivileges: true,
        linux: { seccomp: allow([{ names: setup, action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]) },
      });
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'hardening\nmount=255\n');
        assert.match(r.stderr, /Function not implemented/);
      } finally { b.remove(); }
    });

    test('fds are marked close-on-exec before the filter: a profile denying close_range starts (create/start and run)', () => {
      // Without noNewPrivileges and CAP_SYS_ADMIN the filter goes in before the user
      // switch; nothing after it may depend on a syscall the profile can deny.
      const b = makeBundle({
        args: ['sh', '-c', 'echo started > /tmp/out; cat /tmp/out'],
        noNewPrivileges: false,
        linux: { seccomp: allow([{ names: ['close_range'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]) },
      });
      const id = uniqueId('scclose');
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'started\n');
        assert.equal(rt.cmd(['create', '--bundle', b.dir, id], { stdio: 'ignore' }).status, 0);
        const s = rt.cmd(['start', id]);
        assert.equal(s.status, 0, s.stderr);
        for (let i = 0; i < 100 && JSON.parse(rt.cmd(['state', id]).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.05']);
        assert.equal(readFileSync(join(b.rootfs, 'tmp/out'), 'utf8'), 'started\n');
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });

    test('SCMP_ACT_NOTIFY hands the listener fd to listenerPath and the agent answers the syscall', async () => {
      const { r, msg, lines } = await runWithAgent(rt, uniqueId('notify'));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /Invalid cross-device link/); // errno 18, the agent's answer
      assert.deepEqual(msg.fds, ['seccompFd']);
      assert.equal(msg.metadata, 'agent-data');
      assert.match(lines[2], /"notifiedSyscall":"mkdir(at)?"/);
    });

    test('the listener message carries the container state and its host pid', async () => {
      const id = uniqueId('notify');
      const { msg } = await runWithAgent(rt, id);
      assert.equal(msg.state.id, id);
      assert.equal(msg.state.status, 'creating');
      assert.equal(msg.state.pid, msg.pid);
      assert.ok(msg.pid > 1);
    });

    test('an exec\'d process hands its listener fd over too, with the running container\'s state', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hardening-notify-exec-'));
      const socket = join(dir, 'agent.sock');
      const harness = buildHarness(dir);
      const b = makeBundle({
        args: ['sleep', '30'],
        linux: { seccomp: { ...allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: socket } },
      });
      const id = uniqueId('notifyexec');
      // the init's own listener fd goes to a first agent, which is then dismissed
      const first = await startAgent(harness, socket, 18);
      try {
        runDetached(rt, b, id);
      } finally {
        first.kill();
        await first.done;
        rmSync(socket, { force: true });
      }
      try {
        // twice: rocker compiles the profile for the first exec and loads the kept program for the second
        for (let i = 0; i < 2; i++) {
          const agent = await startAgent(harness, socket, 18);
          try {
            const r = rt.cmd(['exec', id, 'mkdir', '/tmp/made']);
            assert.equal(r.status, 1, r.stderr);
            assert.match(r.stderr, /Invalid cross-device link/);
            const { lines } = await agent.done;
            const msg = JSON.parse(lines[1]);
            assert.equal(msg.state.id, id);
            assert.equal(msg.state.status, 'running');
            assert.notEqual(msg.pid, msg.state.pid, 'the exec\'d process, not the init');
          } finally {
            agent.kill();
            rmSync(socket, { force: true });
          }
        }
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an unknown action is refused with a clear error and nothing runs', () => {
      const b = makeBundle({ args: ['touch', '/ran'], linux: { seccomp: allow([{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }]) } });
      try {
        const r = runOnce(rt, b);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /SCMP_ACT_BOGUS|syscalls\[0\]\.action/);
        assert.equal(existsSync(join(b.rootfs, 'ran')), false);
      } finally { b.remove(); }
    });
  });
}

test('rocker: a startContainer hook gets the filter without the listener (ENOSYS), the container keeps the agent', async () => {
  const rt = runtimes()[0];
  const dir = mkdtempSync(join(tmpdir(), 'hardening-notify-hook-'));
  const socket = join(dir, 'agent.sock');
  const agent = await startAgent(buildHarness(dir), socket, 18);
  const opts = {
    args: ['sh', '-c', 'cat /tmp/hook-err; mkdir /tmp/bycontainer'],
    linux: { seccomp: { ...allow([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: socket } },
  };
  const b = makeBundle(opts);
  b.write({ ...config(opts), hooks: { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /tmp/byhook 2>/tmp/hook-err; exit 0'] }] } });
  try {
    const r = runOnce(rt, b);
    assert.match(r.stdout, /byhook.*Function not implemented/);
    assert.match(r.stderr, /bycontainer.*Invalid cross-device link/); // the agent's answer
    const { lines } = await agent.done;
    assert.match(lines[2], /"notifiedSyscall":"mkdir(at)?"/);
  } finally {
    agent.kill();
    b.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
