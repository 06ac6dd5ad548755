// containerd 1.6 drives the runtime through its runc v2 shim (`ctr run --runc-binary`).
// One private daemon serves the whole file; each runtime gets its own namespace, so its
// state (/run/containerd/runc/<ns>) and cgroups (/<ns>/<id>) are its own.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ContainerdDaemon } from './lib/containerd-daemon.mjs';
import { buildBusyboxArchive, BUSYBOX_REF } from './lib/busybox-image.mjs';
import { describeResult } from './lib/proc.mjs';
import { existingCgroups } from './lib/cleanup.mjs';
import { runtimesUnderTest, optionsFor, uniqueName } from './lib/runtimes.mjs';
import { frozen, pathsOf } from '../cgroups/layout.mjs';
import { assertLimits } from '../cgroups/helpers.mjs';

/** rocker subtests that cannot pass yet, each with the FINDINGS.md entry it waits on. */
const ROCKER_GAPS = {};

// The PID 1 of the detached container: no SIGTERM handler, so only SIGKILL ends it.
const IDLE = ['sleep', '100000'];
// containerd's message for a runtime error it could not read from the --log file.
const UNREADABLE_LOG = /unable to retrieve OCI runtime error/;

let workDir;
let archive;
let daemon;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'rocker-clients-image-'));
  archive = await buildBusyboxArchive(workDir);
  daemon = await ContainerdDaemon.start();
});

after(async () => {
  await daemon?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

for (const runtime of runtimesUnderTest()) {
  describe(`containerd with ${runtime.name}`, optionsFor(runtime, '*', ROCKER_GAPS), () => {
    const ns = uniqueName(`clients-${runtime.name}`);
    let ctr;
    const ctrRun = (args) => ['run', '--runc-binary', runtime.path, ...args];
    const it = (title, fn) => test(title, optionsFor(runtime, title, ROCKER_GAPS), fn);

    /** The task's pid and status as `ctr task ls` reports them. */
    async function taskInfo(id) {
      const r = await ctr.ok(['task', 'ls']);
      const row = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[0] === id);
      return row ? { pid: Number(row[1]), status: row[2] } : undefined;
    }

    // A killed task's exit is reaped by the shim asynchronously; ctr has no wait verb
    // that leaves the task for `ctr task delete`, so watch its status for a bounded time.
    async function waitForStopped(id) {
      for (let i = 0; i < 100; i++) {
        if ((await taskInfo(id))?.status === 'STOPPED') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`task ${id} did not stop within 5 s: ${JSON.stringify(await taskInfo(id))}`);
    }

    function assertGone(id) {
      assert.equal(existsSync(`/run/containerd/runc/${ns}/${id}`), false, `runtime state dir of ${id} left behind`);
      assert.deepEqual(existingCgroups(`/${ns}/${id}`), [], `cgroups of ${id} left behind`);
    }

    before(async () => {
      ctr = daemon.client(ns);
      await ctr.ok(['image', 'import', archive]);
    });

    it('foreground run passes output and the exit code through', async () => {
      const r = await ctr.run(ctrRun(['--rm', BUSYBOX_REF, 'fg', 'sh', '-c', 'echo hello; echo oops >&2; exit 3']));
      assert.equal(r.code, 3, describeResult(r));
      assert.equal(r.stdout, 'hello\n', describeResult(r));
      assert.equal(r.stderr, 'oops\n', describeResult(r));
      assertGone('fg');
    });

    it('the container process gets only stdio, not the shim socket on fd 3', async () => {
      // "; exit 0" keeps sh from exec'ing ls, so the listing is sh's own fds.
      const r = await ctr.run(ctrRun(['--rm', BUSYBOX_REF, 'fds', 'sh', '-c', 'ls /proc/$$/fd; exit 0']));
      assert.equal(r.code, 0, describeResult(r));
      assert.deepEqual(r.stdout.split(/\s+/).filter(Boolean), ['0', '1', '2']);
    });

    it('a container whose process cannot start reports the runtime error to the ctr user', async () => {
      const r = await ctr.run(ctrRun(['--rm', BUSYBOX_REF, 'bad', '/nonexistent']));
      assert.notEqual(r.code, 0, describeResult(r));
      // The message containerd takes from the last "error" object of the --log JSON.
      assert.match(r.stderr, /OCI runtime (create|start) failed: .*\/nonexistent.*no such file or directory/i, describeResult(r));
      assert.doesNotMatch(r.stderr, UNREADABLE_LOG);
      await ctr.run(['container', 'delete', 'bad']);
      assertGone('bad');
    });

    it('kill sends SIGTERM by default to a foreground run', async () => {
      const fg = ctr.background(ctrRun(['--rm', BUSYBOX_REF, 'term',
        'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.2; done']));
      await fg.waitFor(/ready/);
      await ctr.ok(['task', 'kill', 'term']);
      const r = await fg.done;
      assert.equal(r.code, 42, describeResult(r));
      assertGone('term');
    });

    it('tty run (ctr run -t) gets a pty from the console socket', async () => {
      const r = await ctr.pty(ctrRun(['--rm', '-t', BUSYBOX_REF, 'tty',
        'sh', '-c', 'tty; sleep 0.3; exit 5']));
      assert.equal(r.code, 5, describeResult(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
      assertGone('tty');
    });

    describe('detached container', () => {
      const id = 'det';
      let initPid;

      it('run -d leaves the task running in its cgroup, with its limits', async () => {
        const r = await ctr.run(ctrRun(['-d', '--memory-limit', '67108864', '--cpus', '0.5', BUSYBOX_REF, id, ...IDLE]));
        assert.equal(r.code, 0, describeResult(r));
        const info = await taskInfo(id);
        assert.equal(info?.status, 'RUNNING');
        initPid = info.pid;
        const paths = pathsOf(`/${ns}/${id}`);
        for (const [key, dir] of Object.entries(paths)) assert.ok(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(initPid)), key || 'cgroup2');
        assertLimits(paths, { memory: { limit: 67108864 }, cpu: { quota: 50000 } });
      });

      it('task exec passes output and the exit code through', async () => {
        const r = await ctr.run(['task', 'exec', '--exec-id', 'e7', id, 'sh', '-c', 'echo from exec; exit 7']);
        assert.equal(r.code, 7, describeResult(r));
        assert.equal(r.stdout, 'from exec\n', describeResult(r));
      });

      it('task exec of a missing binary reports the runtime error', async () => {
        const r = await ctr.run(['task', 'exec', '--exec-id', 'missing', id, '/nonexistent']);
        assert.notEqual(r.code, 0, describeResult(r));
        assert.match(r.stderr, /OCI runtime exec failed: .*\/nonexistent.*no such file or directory/i, describeResult(r));
        assert.doesNotMatch(r.stderr, UNREADABLE_LOG);
      });

      it('task exec -t gets a pty', async () => {
        const r = await ctr.pty(['task', 'exec', '-t', '--exec-id', 'tty', id, 'sh', '-c', 'tty; sleep 0.3; exit 4']);
        assert.equal(r.code, 4, describeResult(r));
        assert.match(r.stdout, /\/dev\/pts\/\d+/);
      });

      it('task ps lists the init and exec processes by host pid', async () => {
        const sleeper = ctr.background(['task', 'exec', '--exec-id', 'sleeper', id,
          'sh', '-c', 'echo ready; exec sleep 1000']);
        await sleeper.waitFor(/ready/);
        const r = await ctr.ok(['task', 'ps', id]);
        const rows = r.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/));
        assert.equal(rows.length, 2, r.stdout);
        assert.ok(rows.some(([pid]) => Number(pid) === initPid), `init pid ${initPid} missing from ${r.stdout}`);
        const [execPid, info] = rows.find(([pid]) => Number(pid) !== initPid);
        assert.match(info, /ExecID:sleeper/);
        // `ready` is printed just before the shell execs sleep: give the exec a moment.
        const comm = () => readFileSync(`/proc/${execPid}/comm`, 'utf8');
        for (let i = 0; i < 100 && comm() !== 'sleep\n'; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(comm(), 'sleep\n');
        await ctr.ok(['task', 'kill', '--exec-id', 'sleeper', '-s', '9', id]);
        const done = await sleeper.done;
        assert.equal(done.code, 137, describeResult(done));
      });

      it('task pause freezes and task resume thaws the container', async () => {
        const paths = pathsOf(`/${ns}/${id}`);
        await ctr.ok(['task', 'pause', id]);
        assert.equal((await taskInfo(id))?.status, 'PAUSED');
        assert.equal(frozen(paths), true);
        await ctr.ok(['task', 'resume', id]);
        assert.equal((await taskInfo(id))?.status, 'RUNNING');
        assert.equal(frozen(paths), false);
      });

      it('task metrics reads the container cgroups', async () => {
        const r = await ctr.ok(['task', 'metrics', '--format', 'json', id]);
        const m = JSON.parse(r.stdout);
        // containerd's v1 metrics (from cgroupfs v1) or its cgroup2 ones, as the host has.
        assert.ok(m.pids.current >= 1, r.stdout);
        assert.ok((m.memory.usage?.usage ?? m.memory.usage) > 0, r.stdout);
        assert.ok((m.cpu.usage?.total ?? m.cpu.usage_usec) > 0, r.stdout);
      });

      it('task kill (SIGTERM) leaves a PID 1 without a handler running', async () => {
        await ctr.ok(['task', 'kill', id]);
        // Signals the kernel ignores for PID 1 without a handler must not kill it.
        assert.equal((await taskInfo(id))?.status, 'RUNNING');
      });

      it('task kill -a -s 9 stops it', async () => {
        await ctr.ok(['task', 'kill', '-a', '-s', '9', id]);
        await waitForStopped(id);
      });

      it('task delete removes the task and reports its exit code', async () => {
        const r = await ctr.ok(['task', 'delete', id]);
        assert.match(r.stderr, /exit code 137/, describeResult(r));
        assert.equal(await taskInfo(id), undefined);
        await ctr.ok(['container', 'delete', id]);
        assertGone(id);
      });
    });
  });
}
