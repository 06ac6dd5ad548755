// containerd 1.6 runs every flow below once per set-up: its runc v2 shim with each runtime
// under test (`ctr run --runc-binary`), and rocker's own shim (`ctr run --runtime
// io.containerd.rocker.v2`, bin/containerd-shim-rocker-v2). What only the rocker shim does
// (one shim per namespace, Update, events, a SIGKILLed shim...) is test/shim/ctr.test.mjs.
// One private daemon serves the whole file; each set-up gets its own namespace, so its
// state (<state root>/<ns>) and cgroups (/<ns>/<id>) are its own.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ContainerdDaemon, SHIM_RUNTIME_ROOT, ROCKER_SHIM, ROCKER_SHIM_ROOT } from './lib/containerd-daemon.mjs';
import { buildBusyboxArchive, BUSYBOX_REF } from './lib/busybox-image.mjs';
import { describeResult, runWithPty } from './lib/proc.mjs';
import { taskInfo, until, assertGone } from './lib/ctr-tasks.mjs';
import { runtimesUnderTest, optionsFor, skipGap, uniqueName } from './lib/runtimes.mjs';
import { frozen, pathsOf, layout } from '../cgroups/layout.mjs';
import { assertLimits } from '../cgroups/helpers.mjs';

/** Subtests that cannot pass yet, each with the FINDINGS.md entry it waits on: rocker-runtime's... */
const ROCKER_GAPS = {};
/** ...and containerd-shim-rocker-v2's. */
const ROCKER_SHIM_GAPS = {};

/**
 * How containerd runs a task: `ctr run`'s flags choosing the shim (and its runtime), the
 * root the containers' state dirs go under, how containerd words a runtime error of `verb`
 * (the runc shim's from the last "error" object of the runtime's --log JSON), and the test
 * options of a subtest `title` ('*' for the set-up's suite), skipping its known gaps.
 * CLIENTS_RUNTIMES narrows the runc shim's runtimes; the rocker shim's set-up always runs.
 */
const SETUPS = [
  ...runtimesUnderTest().map((runtime) => ({
    name: runtime.name,
    runFlags: ['--runc-binary', runtime.path],
    stateRoot: SHIM_RUNTIME_ROOT,
    runtimeError: (verb) => `OCI runtime ${verb} failed: `,
    options: (title) => optionsFor(runtime, title, ROCKER_GAPS),
  })),
  {
    name: 'containerd-shim-rocker-v2',
    runFlags: ['--runtime', ROCKER_SHIM],
    stateRoot: ROCKER_SHIM_ROOT,
    runtimeError: () => '',
    options: (title) => skipGap(ROCKER_SHIM_GAPS, title, 'containerd-shim-rocker-v2'),
  },
];

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

for (const setup of SETUPS) {
  describe(`containerd with ${setup.name}`, { timeout: 300_000, ...setup.options('*') }, () => {
    const ns = uniqueName(`clients-${setup.name}`);
    let ctr;
    const ctrRun = (args) => ['run', ...setup.runFlags, ...args];
    const it = (title, fn) => test(title, setup.options(title), fn);
    const status = async (id) => (await taskInfo(ctr, id))?.status;
    const gone = (id) => assertGone(setup.stateRoot, ns, id);
    const runtimeError = (verb, detail) => new RegExp(`${setup.runtimeError(verb)}.*${detail}`, 'i');

    before(async () => {
      ctr = daemon.client(ns);
      await ctr.ok(['image', 'import', archive]);
    });

    it('foreground run passes output and the exit code through', async () => {
      const r = await ctr.run(ctrRun(['--rm', BUSYBOX_REF, 'fg', 'sh', '-c', 'echo hello; echo oops >&2; exit 3']));
      assert.equal(r.code, 3, describeResult(r));
      assert.equal(r.stdout, 'hello\n', describeResult(r));
      assert.equal(r.stderr, 'oops\n', describeResult(r));
      gone('fg');
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
      assert.match(r.stderr, runtimeError('(create|start)', '/nonexistent.*no such file or directory'), describeResult(r));
      assert.doesNotMatch(r.stderr, UNREADABLE_LOG);
      await ctr.run(['container', 'delete', 'bad']);
      gone('bad');
    });

    it('kill sends SIGTERM by default to a foreground run', async () => {
      const fg = ctr.background(ctrRun(['--rm', BUSYBOX_REF, 'term',
        'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.2; done']));
      await fg.waitFor(/ready/);
      await ctr.ok(['task', 'kill', 'term']);
      const r = await fg.done;
      assert.equal(r.code, 42, describeResult(r));
      gone('term');
    });

    it('tty run (ctr run -t) gets a pty from the console socket', async () => {
      const r = await ctr.pty(ctrRun(['--rm', '-t', BUSYBOX_REF, 'tty',
        'sh', '-c', 'tty; sleep 0.3; exit 5']));
      assert.equal(r.code, 5, describeResult(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
      gone('tty');
    });

    it('the terminal takes the size of ctr\'s own (ResizePty)', async () => {
      // script(1) gives sh a pty; stty sets its size, then sh becomes ctr, which sends that size.
      const wait = 'i=0; while [ $i -lt 100 ] && [ "$(busybox stty size)" != "33 77" ]; do sleep 0.1; i=$((i+1)); done; busybox stty size';
      const argv = daemon.ctrArgv(ns, ctrRun(['--rm', '-t', BUSYBOX_REF, 'size', 'sh', '-c', wait]));
      const r = await runWithPty(['sh', '-c', 'stty rows 33 cols 77; exec "$0" "$@"', ...argv]);
      assert.equal(r.code, 0, describeResult(r));
      // Before it, the terminal may echo what ctr wrote to it (runc's: a NUL, shown as ^@).
      assert.match(r.stdout, /\b33 77\r*$/m, describeResult(r));
    });

    describe('detached container', () => {
      const id = 'det';
      let initPid;

      it('run -d leaves the task running in its cgroup, with its limits', async () => {
        const r = await ctr.run(ctrRun(['-d', '--memory-limit', '67108864', '--cpus', '0.5', BUSYBOX_REF, id, ...IDLE]));
        assert.equal(r.code, 0, describeResult(r));
        const info = await taskInfo(ctr, id);
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
        assert.match(r.stderr, runtimeError('exec', '/nonexistent.*no such file or directory'), describeResult(r));
        assert.doesNotMatch(r.stderr, UNREADABLE_LOG);
      });

      it('task exec -t gets a pty', async () => {
        const r = await ctr.pty(['task', 'exec', '-t', '--exec-id', 'tty', id, 'sh', '-c', 'tty; sleep 0.3; exit 4']);
        assert.equal(r.code, 4, describeResult(r));
        assert.match(r.stdout, /\/dev\/pts\/\d+/);
      });

      it('task exec -t takes the size of ctr\'s terminal (ResizePty of an exec)', async () => {
        // As for a run: ctr sends its size once the exec started, the exec waits to see it.
        const wait = 'i=0; while [ $i -lt 100 ] && [ "$(busybox stty size)" != "31 79" ]; do sleep 0.1; i=$((i+1)); done; busybox stty size';
        const argv = daemon.ctrArgv(ns, ['task', 'exec', '-t', '--exec-id', 'size', id, 'sh', '-c', wait]);
        const r = await runWithPty(['sh', '-c', 'stty rows 31 cols 79; exec "$0" "$@"', ...argv]);
        assert.equal(r.code, 0, describeResult(r));
        // Before it, the terminal may echo what ctr wrote to it (a NUL, shown as ^@).
        assert.match(r.stdout, /\b31 79\r*$/m, describeResult(r));
      });

      describe('with an exec running', () => {
        let sleeper;
        /** `ctr task ps`: [pid, info] per process, and the output for messages. */
        async function ps() {
          const r = await ctr.ok(['task', 'ps', id]);
          return { rows: r.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)), out: r.stdout };
        }

        before(async () => {
          sleeper = ctr.background(['task', 'exec', '--exec-id', 'sleeper', id, 'sh', '-c', 'echo ready; exec sleep 1000']);
          await sleeper.waitFor(/ready/);
        });

        it('task ps lists the init and exec processes by host pid', async () => {
          const { rows, out } = await ps();
          assert.equal(rows.length, 2, out);
          assert.ok(rows.some(([pid]) => Number(pid) === initPid), `init pid ${initPid} missing from ${out}`);
          const [execPid] = rows.find(([pid]) => Number(pid) !== initPid);
          // `ready` is printed just before the shell execs sleep: give the exec a moment.
          const comm = () => readFileSync(`/proc/${execPid}/comm`, 'utf8');
          for (let i = 0; i < 100 && comm() !== 'sleep\n'; i++) await new Promise((r) => setTimeout(r, 20));
          assert.equal(comm(), 'sleep\n');
        });

        it('task ps names an exec by its exec id', async () => {
          const { rows, out } = await ps();
          const exec = rows.find(([pid]) => Number(pid) !== initPid);
          assert.match(exec?.[1] ?? '', /ExecID:sleeper/, out);
        });

        it('task kill --exec-id -s 9 ends the exec with 137, not the task', async () => {
          await ctr.ok(['task', 'kill', '--exec-id', 'sleeper', '-s', '9', id]);
          const done = await sleeper.done;
          assert.equal(done.code, 137, describeResult(done));
          assert.equal(await status(id), 'RUNNING');
        });
      });

      it('task pause freezes and task resume thaws the container', async () => {
        const paths = pathsOf(`/${ns}/${id}`);
        await ctr.ok(['task', 'pause', id]);
        assert.equal(await status(id), 'PAUSED');
        assert.equal(frozen(paths), true);
        await ctr.ok(['task', 'resume', id]);
        assert.equal(await status(id), 'RUNNING');
        assert.equal(frozen(paths), false);
      });

      it('task metrics reads the container cgroups', async () => {
        const r = await ctr.ok(['task', 'metrics', '--format', 'json', id]);
        const m = JSON.parse(r.stdout);
        assert.ok(m.pids.current >= 1, r.stdout);
        // containerd's cgroup2 metrics on a unified host, its v1 ones (from cgroupfs v1) where v1 controllers are mounted.
        if (layout.mode === 'unified') {
          assert.ok(m.memory.usage > 0, r.stdout);
          assert.ok(m.cpu.usage_usec > 0, r.stdout);
        } else {
          assert.ok(m.memory.usage.usage > 0, r.stdout);
          assert.ok(m.cpu.usage.total > 0, r.stdout);
        }
      });

      it('task kill (SIGTERM) leaves a PID 1 without a handler running', async () => {
        await ctr.ok(['task', 'kill', id]);
        // Signals the kernel ignores for PID 1 without a handler must not kill it.
        assert.equal(await status(id), 'RUNNING');
      });

      it('task kill -a -s 9 stops it', async () => {
        await ctr.ok(['task', 'kill', '-a', '-s', '9', id]);
        await until(`task ${id} stopped`, async () => (await status(id)) === 'STOPPED');
      });

      it('task delete removes the task and reports its exit code', async () => {
        const r = await ctr.ok(['task', 'delete', id]);
        assert.match(r.stderr, /exit code 137/, describeResult(r));
        assert.equal(await taskInfo(ctr, id), undefined);
        await ctr.ok(['container', 'delete', id]);
        gone(id);
      });
    });
  });
}
