// containerd 1.6 with containerd-shim-rocker-v2 (`ctr run --runtime io.containerd.rocker.v2`):
// the flows test/clients/containerd.test.mjs runs through the runc shim, here through
// rocker's own long-lived shim, plus what is the shim's own: one shim process for the
// namespace, events, and containerd's cleanup after the shim is SIGKILLed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { ContainerdDaemon } from '../clients/lib/containerd-daemon.mjs';
import { buildBusyboxArchive, BUSYBOX_REF } from '../clients/lib/busybox-image.mjs';
import { describeResult, runWithPty } from '../clients/lib/proc.mjs';
import { existingCgroups, pidsWithCmdline, killPids, rmdirQuiet } from '../clients/lib/cleanup.mjs';
import { uniqueName } from '../clients/lib/runtimes.mjs';
import { frozen, pathsOf } from '../cgroups/layout.mjs';
import { assertLimits } from '../cgroups/helpers.mjs';

const BIN = new URL('../../bin/', import.meta.url).pathname;
const RUNTIME = ['--runtime', 'io.containerd.rocker.v2'];
const IDLE = ['sleep', '100000'];
const STATE_ROOT = '/run/containerd/rocker';
const CONSOLE_SOCKETS = '/run/rocker-shim';

let workDir;
let archive;
let daemon;
const ns = uniqueName('shim');
let ctr;
/** The shim's socket (from a bundle's `address`): a SIGKILLed shim leaves it behind. */
const shimSockets = new Set();

/** The argv of the processes whose command line names this daemon's socket. */
function daemonProcesses() {
  return pidsWithCmdline(daemon.socket).flatMap((pid) => {
    try {
      return [{ pid, args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) }];
    } catch {
      return [];
    }
  });
}

/** The shims serving this daemon: their holders (shim/holder/), which own the socket and the containers. */
function shimPids() {
  return daemonProcesses().filter((p) => p.args[0].endsWith('/rocker-shim-holder')).map((p) => p.pid);
}

/** The shim's Node workers (the holder's children while there are calls to answer). */
function workerPids() {
  return daemonProcesses().filter((p) => p.args.at(-1) === 'worker' && !p.args[0].endsWith('/rocker-shim-holder')).map((p) => p.pid);
}

async function taskInfo(id) {
  const r = await ctr.ok(['task', 'ls']);
  const row = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[0] === id);
  return row ? { pid: Number(row[1]), status: row[2] } : undefined;
}

/** Runs argv with `input` on its stdin (a pipe that then closes). */
function withInput(argv, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

async function until(what, fn, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (await fn()) return;
  }
  assert.fail(`${what} within ${ms} ms`);
}

function assertGone(id) {
  assert.equal(existsSync(join(STATE_ROOT, ns, id)), false, `runtime state dir of ${id} left behind`);
  assert.deepEqual(existingCgroups(`/${ns}/${id}`), [], `cgroups of ${id} left behind`);
}

before(async () => {
  // containerd finds containerd-shim-rocker-v2 on its PATH.
  process.env.PATH = `${BIN}:${process.env.PATH}`;
  workDir = mkdtempSync(join(tmpdir(), 'rocker-shim-image-'));
  archive = await buildBusyboxArchive(workDir);
  daemon = await ContainerdDaemon.start();
  ctr = daemon.client(ns);
  await ctr.ok(['image', 'import', archive]);
});

after(async () => {
  await daemon?.stop();
  // Monitors of containers a failed test left: their argv names a bundle under the daemon's dir.
  if (daemon) killPids(pidsWithCmdline(daemon.dir));
  for (const path of shimSockets) rmSync(path, { force: true });
  // Left when not empty: another run may be using it.
  rmdirQuiet(CONSOLE_SOCKETS);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('containerd with containerd-shim-rocker-v2', { timeout: 300_000 }, () => {
  test('foreground run passes output and the exit code through, and leaves nothing', async () => {
    const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'fg', 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    assert.equal(r.code, 3, describeResult(r));
    assert.equal(r.stdout, 'hello\n', describeResult(r));
    assert.equal(r.stderr, 'oops\n', describeResult(r));
    assertGone('fg');
  });

  test('the container process gets only stdio', async () => {
    const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'fds', 'sh', '-c', 'ls /proc/$$/fd; exit 0']);
    assert.equal(r.code, 0, describeResult(r));
    assert.deepEqual(r.stdout.split(/\s+/).filter(Boolean), ['0', '1', '2']);
  });

  test('stdin reaches the container and its end is the container\'s EOF', async () => {
    const r = await withInput(daemon.ctrArgv(ns, ['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'cat', 'sh', '-c', 'cat; echo done']), 'piped\n');
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stdout, 'piped\ndone\n', describeResult(r));
  });

  test('a process that cannot start is reported to the ctr user', async () => {
    const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'bad', '/nonexistent']);
    assert.notEqual(r.code, 0, describeResult(r));
    assert.match(r.stderr, /\/nonexistent.*no such file or directory/i, describeResult(r));
    await ctr.run(['container', 'delete', 'bad']);
    assertGone('bad');
  });

  test('kill sends SIGTERM to a foreground run', async () => {
    const fg = ctr.background(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'term', 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.2; done']);
    await fg.waitFor(/ready/);
    await ctr.ok(['task', 'kill', 'term']);
    const r = await fg.done;
    assert.equal(r.code, 42, describeResult(r));
    assertGone('term');
  });

  test('tty run (ctr run -t) gets a terminal through the console socket', async () => {
    const r = await ctr.pty(['run', ...RUNTIME, '--rm', '-t', BUSYBOX_REF, 'tty', 'sh', '-c', 'tty; sleep 0.3; exit 5']);
    assert.equal(r.code, 5, describeResult(r));
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assertGone('tty');
  });

  test('the terminal takes the size of ctr\'s own (ResizePty through the monitor)', async () => {
    // script(1) gives sh a pty; stty sets its size, then sh becomes ctr, which sends that size.
    const wait = 'i=0; while [ $i -lt 100 ] && [ "$(busybox stty size)" != "33 77" ]; do sleep 0.1; i=$((i+1)); done; busybox stty size';
    const argv = daemon.ctrArgv(ns, ['run', ...RUNTIME, '--rm', '-t', BUSYBOX_REF, 'size', 'sh', '-c', wait]);
    const r = await runWithPty(['sh', '-c', 'stty rows 33 cols 77; exec "$0" "$@"', ...argv]);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^33 77\r?$/m, describeResult(r));
  });

  describe('detached container', () => {
    const id = 'det';
    let initPid;

    test('run -d leaves the task running in its cgroup', async () => {
      const r = await ctr.run(['run', ...RUNTIME, '-d', BUSYBOX_REF, id, ...IDLE]);
      assert.equal(r.code, 0, describeResult(r));
      const info = await taskInfo(id);
      assert.equal(info?.status, 'RUNNING');
      initPid = info.pid;
      const address = readFileSync(join(daemon.dir, 'state', 'io.containerd.runtime.v2.task', ns, id, 'address'), 'utf8');
      assert.match(address, /^unix:\/\/\/run\/containerd\/s\/[0-9a-f]{64}$/);
      shimSockets.add(address.slice('unix://'.length));
      const paths = pathsOf(`/${ns}/${id}`);
      for (const [key, dir] of Object.entries(paths)) assert.ok(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(initPid)), key || 'cgroup2');
    });

    test('a second container is served by the same shim process', async () => {
      const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'second', 'true']);
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(shimPids().length, 1, `shims: ${shimPids()}`);
    });

    test('task exec passes output and the exit code through', async () => {
      const r = await ctr.run(['task', 'exec', '--exec-id', 'e7', id, 'sh', '-c', 'echo from exec; exit 7']);
      assert.equal(r.code, 7, describeResult(r));
      assert.equal(r.stdout, 'from exec\n', describeResult(r));
    });

    test('task exec of a missing binary reports the runtime error', async () => {
      const r = await ctr.run(['task', 'exec', '--exec-id', 'missing', id, '/nonexistent']);
      assert.notEqual(r.code, 0, describeResult(r));
      assert.match(r.stderr, /\/nonexistent.*no such file or directory/i, describeResult(r));
    });

    test('task exec -t gets a pty', async () => {
      const r = await ctr.pty(['task', 'exec', '-t', '--exec-id', 'tty', id, 'sh', '-c', 'tty; sleep 0.3; exit 4']);
      assert.equal(r.code, 4, describeResult(r));
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
    });

    test('task exec -t takes the size of ctr\'s terminal (ResizePty through the exec\'s nsexec)', async () => {
      // As for the init's terminal: ctr sends its own size after Start, the exec waits to see it.
      const wait = 'i=0; while [ $i -lt 100 ] && [ "$(busybox stty size)" != "31 79" ]; do sleep 0.1; i=$((i+1)); done; busybox stty size';
      const argv = daemon.ctrArgv(ns, ['task', 'exec', '-t', '--exec-id', 'size', id, 'sh', '-c', wait]);
      const r = await runWithPty(['sh', '-c', 'stty rows 31 cols 79; exec "$0" "$@"', ...argv]);
      assert.equal(r.code, 0, describeResult(r));
      // ^@: a NUL byte that reaches every exec -t from ctr under script(1) (with runc too), echoed.
      assert.match(r.stdout, /^(\^@)?31 79\r?$/m, describeResult(r));
    });

    test('task ps lists the init and exec processes; an exec killed exits 137', async () => {
      const sleeper = ctr.background(['task', 'exec', '--exec-id', 'sleeper', id, 'sh', '-c', 'echo ready; exec sleep 1000']);
      await sleeper.waitFor(/ready/);
      const r = await ctr.ok(['task', 'ps', id]);
      const pids = r.stdout.split('\n').slice(1).filter(Boolean).map((l) => Number(l.split(/\s+/)[0]));
      assert.equal(pids.length, 2, r.stdout);
      assert.ok(pids.includes(initPid), r.stdout);
      await ctr.ok(['task', 'kill', '--exec-id', 'sleeper', '-s', '9', id]);
      const done = await sleeper.done;
      assert.equal(done.code, 137, describeResult(done));
    });

    test('task pause freezes and task resume thaws the container', async () => {
      const paths = pathsOf(`/${ns}/${id}`);
      await ctr.ok(['task', 'pause', id]);
      assert.equal((await taskInfo(id))?.status, 'PAUSED');
      assert.equal(frozen(paths), true);
      await ctr.ok(['task', 'resume', id]);
      assert.equal((await taskInfo(id))?.status, 'RUNNING');
      assert.equal(frozen(paths), false);
    });

    test('Update changes the limits of the running container (the CRI\'s UpdateContainerResources; ctr 1.6 has no verb)', async () => {
      const { Client } = await import('../../dist/shim/ttrpc.js');
      const client = new Client([...shimSockets][0]);
      try {
        const resources = { memory: { limit: 33554432 } };
        await client.call('containerd.task.v2.Task', 'Update', {
          id,
          resources: { type_url: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: Buffer.from(JSON.stringify(resources)) },
        });
      } finally {
        client.close();
      }
      assertLimits(pathsOf(`/${ns}/${id}`), { memory: { limit: 33554432 } });
    });

    test('task metrics reads the container cgroups', async () => {
      const r = await ctr.ok(['task', 'metrics', '--format', 'json', id]);
      const m = JSON.parse(r.stdout);
      assert.ok(m.pids.current >= 1, r.stdout);
      assert.ok(m.memory.usage.usage > 0, r.stdout);
      assert.ok(m.cpu.usage.total > 0, r.stdout);
    });

    test('checkpoint is refused cleanly', async () => {
      const r = await ctr.run(['task', 'checkpoint', id]);
      assert.notEqual(r.code, 0, describeResult(r));
      assert.match(r.stderr, /not supported|not implemented/i, describeResult(r));
      assert.equal((await taskInfo(id))?.status, 'RUNNING');
    });

    test('task kill (SIGTERM) leaves a PID 1 without a handler running; kill -a -s 9 stops it', async () => {
      await ctr.ok(['task', 'kill', id]);
      assert.equal((await taskInfo(id))?.status, 'RUNNING');
      await ctr.ok(['task', 'kill', '-a', '-s', '9', id]);
      await until('the task stopped', async () => (await taskInfo(id))?.status === 'STOPPED');
    });

    test('task delete removes the task and reports its exit code', async () => {
      const r = await ctr.ok(['task', 'delete', id]);
      assert.match(r.stderr, /exit code 137/, describeResult(r));
      assert.equal(await taskInfo(id), undefined);
      await ctr.ok(['container', 'delete', id]);
      assertGone(id);
    });
  });

  test('events: create, start, exit and delete reach containerd', async () => {
    const events = ctr.background(['events']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'ev', 'sh', '-c', 'exit 9']);
      assert.equal(r.code, 9, describeResult(r));
      await events.waitFor(/\/tasks\/delete.*"ev"/);
    } finally {
      events.child.kill();
    }
    const out = (await events.done).stdout;
    for (const topic of ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']) assert.match(out, new RegExp(`${topic} .*"ev"`), out);
    assert.match(out, /\/tasks\/exit .*"exit_status":9/, out);
  });

  test('an OOM kill of the init is published as /tasks/oom before its exit', async () => {
    const events = ctr.background(['events']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      // A shell variable doubling until the limit kills the shell.
      const r = await ctr.run(['run', ...RUNTIME, '--rm', '--memory-limit', '16777216', BUSYBOX_REF, 'oom', 'sh', '-c', 'x=a; while :; do x=$x$x; done']);
      assert.equal(r.code, 137, describeResult(r));
      await events.waitFor(/\/tasks\/delete.*"oom"/);
    } finally {
      events.child.kill();
    }
    const out = (await events.done).stdout;
    assert.match(out, /\/tasks\/oom .*"oom"[\s\S]*\/tasks\/exit .*"oom"/, out);
  });

  test('a SIGKILLed shim leaves its containers running until containerd cleans them up through `delete`', async () => {
    const r = await ctr.run(['run', ...RUNTIME, '-d', BUSYBOX_REF, 'crash', ...IDLE]);
    assert.equal(r.code, 0, describeResult(r));
    const { pid } = await taskInfo('crash');
    const [shim] = shimPids();
    assert.ok(shim, 'no shim process');
    process.kill(shim, 'SIGKILL');
    // The container does not die with its shim: the init is re-parented and runs on.
    assert.ok(existsSync(`/proc/${pid}`), 'the container died with the shim');
    // containerd sees the connection close and runs `containerd-shim-rocker-v2 delete`.
    await until('containerd cleaned up the task', async () => (await taskInfo('crash')) === undefined);
    await until('the init is gone', () => !existsSync(`/proc/${pid}`));
    await ctr.ok(['container', 'delete', 'crash']);
    assertGone('crash');
    // The next container starts a new shim.
    const again = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'after', 'sh', '-c', 'exit 4']);
    assert.equal(again.code, 4, describeResult(again));
  });

  test('the Node worker ends when idle; a container exiting meanwhile is told to the ctr waiting for it', async () => {
    const id = 'sleeper';
    // The container waits for a file the test creates through its rootfs once the worker is gone.
    const run = ctr.background(['run', ...RUNTIME, '--rm', BUSYBOX_REF, id, 'sh', '-c', 'echo up; while [ ! -e /go ]; do sleep 0.2; done; exit 5']);
    await run.waitFor(/up/);
    await until('the worker ended', () => workerPids().length === 0, 60_000);
    assert.equal(shimPids().length, 1, 'one holder keeps the container');
    const bundle = join(daemon.dir, 'state', 'io.containerd.runtime.v2.task', ns, id);
    writeFileSync(join(bundle, 'rootfs', 'go'), '');
    const r = await run.done;
    // ctr's Wait was parked in the holder; the holder reaped the init and woke a worker to tell it.
    assert.equal(r.code, 5, describeResult(r));
    assertGone(id);
  });

  test('the shim exits once it has served no container for a while', async () => {
    assert.equal((await ctr.ok(['task', 'ls', '-q'])).stdout.trim(), '', 'tasks left by earlier tests');
    assert.ok(shimPids().length > 0, 'no shim running');
    await until('the shim exited', () => shimPids().length === 0, 30_000);
  });
});
