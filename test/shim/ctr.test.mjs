// containerd 1.6 with containerd-shim-rocker-v2 (`ctr run --runtime io.containerd.rocker.v2`):
// what is the rocker shim's own. The flows every shim shares (run, exec, ps, pause, metrics,
// kill, delete...) run through it in test/clients/containerd.test.mjs; here: one shim
// process for the namespace, Update over its ttrpc socket, stdin's EOF, events,
// containerd's cleanup after the shim is SIGKILLed, its Node worker's and its own idle exit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ContainerdDaemon, ROCKER_SHIM, ROCKER_SHIM_ROOT } from '../clients/lib/containerd-daemon.mjs';
import { buildBusyboxArchive, BUSYBOX_REF } from '../clients/lib/busybox-image.mjs';
import { describeResult } from '../clients/lib/proc.mjs';
import { pidsWithCmdline } from '../clients/lib/cleanup.mjs';
import { taskInfo, until, assertGone } from '../clients/lib/ctr-tasks.mjs';
import { uniqueName } from '../clients/lib/runtimes.mjs';
import { pathsOf } from '../cgroups/layout.mjs';
import { assertLimits } from '../cgroups/helpers.mjs';

const RUNTIME = ['--runtime', ROCKER_SHIM];
const IDLE = ['sleep', '100000'];

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

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'rocker-shim-image-'));
  archive = await buildBusyboxArchive(workDir);
  daemon = await ContainerdDaemon.start();
  ctr = daemon.client(ns);
  await ctr.ok(['image', 'import', archive]);
});

after(async () => {
  await daemon?.stop();
  for (const path of shimSockets) rmSync(path, { force: true });
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('containerd-shim-rocker-v2, its own behaviour', { timeout: 300_000 }, () => {
  test('stdin reaches the container and its end is the container\'s EOF (the runc shim keeps it open)', async () => {
    const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'cat', 'sh', '-c', 'cat; echo done'], { input: 'piped\n' });
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stdout, 'piped\ndone\n', describeResult(r));
  });

  describe('detached container', () => {
    const id = 'det';

    // Its tasks go with the describe, so that the idle shim below can exit.
    after(() => daemon.purgeNamespace(ns));

    test('run -d records the shim\'s socket as the bundle\'s address', async () => {
      const r = await ctr.run(['run', ...RUNTIME, '-d', BUSYBOX_REF, id, ...IDLE]);
      assert.equal(r.code, 0, describeResult(r));
      const address = readFileSync(join(daemon.dir, 'state', 'io.containerd.runtime.v2.task', ns, id, 'address'), 'utf8');
      assert.match(address, /^unix:\/\/\/run\/containerd\/s\/[0-9a-f]{64}$/);
      shimSockets.add(address.slice('unix://'.length));
    });

    test('a second container is served by the same shim process', async () => {
      const r = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'second', 'true']);
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(shimPids().length, 1, `shims: ${shimPids()}`);
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

    test('checkpoint is refused cleanly', async () => {
      const r = await ctr.run(['task', 'checkpoint', id]);
      assert.notEqual(r.code, 0, describeResult(r));
      assert.match(r.stderr, /not supported|not implemented/i, describeResult(r));
      assert.equal((await taskInfo(ctr, id))?.status, 'RUNNING');
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
    const { pid } = await taskInfo(ctr, 'crash');
    const [shim] = shimPids();
    assert.ok(shim, 'no shim process');
    process.kill(shim, 'SIGKILL');
    // The container does not die with its shim: the init is re-parented and runs on.
    assert.ok(existsSync(`/proc/${pid}`), 'the container died with the shim');
    // containerd sees the connection close and runs `containerd-shim-rocker-v2 delete`.
    await until('containerd cleaned up the task', async () => (await taskInfo(ctr, 'crash')) === undefined);
    await until('the init is gone', () => !existsSync(`/proc/${pid}`));
    await ctr.ok(['container', 'delete', 'crash']);
    assertGone(ROCKER_SHIM_ROOT, ns, 'crash');
    // The next container starts a new shim.
    const again = await ctr.run(['run', ...RUNTIME, '--rm', BUSYBOX_REF, 'after', 'sh', '-c', 'exit 4']);
    assert.equal(again.code, 4, describeResult(again));
  });

  test('a restarted containerd finds its running task again, and the task\'s exit reaches it', async () => {
    const id = 'survivor';
    const r = await ctr.run(['run', ...RUNTIME, '-d', BUSYBOX_REF, id, 'sh', '-c', 'while [ ! -e /go ]; do sleep 0.2; done; exit 6']);
    assert.equal(r.code, 0, describeResult(r));
    const { pid } = await taskInfo(ctr, id);
    await daemon.restart();
    // containerd reconnects to the shim by the bundle's address file and asks for the task's state.
    assert.deepEqual(await taskInfo(ctr, id), { pid, status: 'RUNNING' });
    writeFileSync(join(daemon.dir, 'state', 'io.containerd.runtime.v2.task', ns, id, 'rootfs', 'go'), '');
    await until('the task stopped', async () => (await taskInfo(ctr, id))?.status === 'STOPPED');
    const del = await ctr.ok(['task', 'delete', id]);
    assert.match(del.stderr, /exit code 6\b/, describeResult(del));
    await ctr.ok(['container', 'delete', id]);
    assertGone(ROCKER_SHIM_ROOT, ns, id);
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
    assertGone(ROCKER_SHIM_ROOT, ns, id);
  });

  test('the shim exits once it has served no container for a while', async () => {
    assert.equal((await ctr.ok(['task', 'ls', '-q'])).stdout.trim(), '', 'tasks left by earlier tests');
    assert.ok(shimPids().length > 0, 'no shim running');
    await until('the shim exited', () => shimPids().length === 0, 30_000);
  });
});
