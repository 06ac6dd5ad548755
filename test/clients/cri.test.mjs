// containerd 1.6's CRI plugin, driven over its gRPC API as kubelet (or crictl) drives it:
// a pod sandbox and one container through their whole life, once per runtime handler
// (runc and rocker-runtime under the runc shim; the rocker shim once it is built, see
// criHandlers). One private daemon serves the file; pods are host-network, so no CNI.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { criClient, notFound } from './lib/cri/client.mjs';
import { criHandlers, startCriDaemon, podConfig, containerConfig, logFile } from './lib/cri/pods.mjs';
import { CRI_NAMESPACE, RUNC_SHIM } from './lib/containerd-daemon.mjs';
import { existingCgroups, pidsWithCmdline, removeCgroupTree } from './lib/cleanup.mjs';
import { uniqueName } from './lib/runtimes.mjs';

const TIMEOUT_MS = 120_000 * (Number(process.env.TEST_SLOWDOWN) || 1);
// A CRI log line: RFC 3339 time, stream, F(ull) or P(artial), the text.
const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (stdout|stderr) ([FP]) (.*)$/;
// PID 1 of the container (its own pid namespace): says hello on both streams and
// exits 3 on SIGTERM, so StopContainer's signal is seen arriving.
const COMMAND = ['sh', '-c', 'trap "echo bye; exit 3" TERM; echo out; echo err >&2; while :; do sleep 0.2; done'];

const cgroupParent = `/${uniqueName('rocker-cri')}`;
let workDir;
let daemon;
let cri;
const pods = new Set();

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'rocker-clients-cri-'));
  ({ daemon } = await startCriDaemon(workDir, criHandlers()));
  cri = criClient(daemon.socket);
});

after(async () => {
  for (const id of pods) {
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: id }).catch(() => {});
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id }).catch(() => {});
  }
  cri?.close();
  await daemon?.stop();
  await removeCgroupTree(cgroupParent);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The pid CRI's verbose status reports for a sandbox or container. */
const pidOf = (status) => JSON.parse(status.info.info).pid;
const nsOf = (pid, ns) => readlinkSync(`/proc/${pid}/ns/${ns}`);
const mountsNaming = (id) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));

async function assertNotFound(promise, what) {
  await assert.rejects(promise, (e) => notFound(e), `${what} still known to CRI`);
}

/** Polls until no process names id on its command line (a shim exits after its last task). */
async function waitNoProcessNaming(id) {
  for (let i = 0; i < 100 && pidsWithCmdline(id).length > 0; i++) await sleep(100);
  assert.deepEqual(pidsWithCmdline(id), [], `processes naming ${id} left behind`);
}

for (const handler of criHandlers()) {
  describe(`CRI with runtime handler ${handler.name}`, { timeout: TIMEOUT_MS * 4 }, () => {
    const it = (title, fn) => test(title, { timeout: TIMEOUT_MS }, fn);
    let pod;
    const container = containerConfig({ name: 'main', command: COMMAND });
    let podId;
    let containerId;
    // Where the runc shim has the runtime keep state: proof of which runtime ran.
    const runtimeState = (id) => handler.type === RUNC_SHIM && join(daemon.runtimeRoot(handler.name), id);

    before(() => {
      pod = podConfig({ name: uniqueName(`cri-${handler.name}`), logDir: join(workDir, 'logs', handler.name), cgroupParent });
    });

    it('RunPodSandbox starts the sandbox in its cgroup with the handler\'s runtime, on the host network', async () => {
      ({ pod_sandbox_id: podId } = await cri.runtime.RunPodSandbox({ config: pod, runtime_handler: handler.name }));
      pods.add(podId);
      const status = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId, verbose: true });
      assert.equal(status.status.state, 'SANDBOX_READY');
      assert.equal(status.status.runtime_handler, handler.name);
      const pid = pidOf(status);
      assert.ok(readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`${cgroupParent}/${podId}\n`), `sandbox pid ${pid} not in ${cgroupParent}/${podId}`);
      assert.notDeepEqual(existingCgroups(`${cgroupParent}/${podId}`), []);
      assert.equal(nsOf(pid, 'net'), nsOf(process.pid, 'net'));
      assert.notEqual(nsOf(pid, 'mnt'), nsOf(process.pid, 'mnt'));
      if (runtimeState(podId)) assert.ok(existsSync(runtimeState(podId)), `no state dir at ${runtimeState(podId)}`);
    });

    it('CreateContainer and StartContainer run the container in the pod', async () => {
      ({ container_id: containerId } = await cri.runtime.CreateContainer({ pod_sandbox_id: podId, config: container, sandbox_config: pod }));
      assert.equal((await cri.runtime.ContainerStatus({ container_id: containerId })).status.state, 'CONTAINER_CREATED');
      await cri.runtime.StartContainer({ container_id: containerId });
      const status = await cri.runtime.ContainerStatus({ container_id: containerId, verbose: true });
      assert.equal(status.status.state, 'CONTAINER_RUNNING');
      const pid = pidOf(status);
      const sandboxPid = pidOf(await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId, verbose: true }));
      assert.ok(readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`${cgroupParent}/${containerId}\n`));
      // IPC is the pod's; pid and mount namespaces are the container's own.
      assert.equal(nsOf(pid, 'ipc'), nsOf(sandboxPid, 'ipc'));
      assert.notEqual(nsOf(pid, 'pid'), nsOf(sandboxPid, 'pid'));
      assert.notEqual(nsOf(pid, 'mnt'), nsOf(sandboxPid, 'mnt'));
      if (runtimeState(containerId)) assert.ok(existsSync(runtimeState(containerId)));
    });

    it('ExecSync passes stdout, stderr and the exit code through', async () => {
      const r = await cri.runtime.ExecSync({ container_id: containerId, cmd: ['sh', '-c', 'echo from exec; echo oops >&2; exit 7'], timeout: 60 });
      assert.equal(r.exit_code, 7);
      assert.equal(r.stdout.toString(), 'from exec\n');
      assert.equal(r.stderr.toString(), 'oops\n');
      const ok = await cri.runtime.ExecSync({ container_id: containerId, cmd: ['true'], timeout: 60 });
      assert.equal(ok.exit_code, 0);
    });

    it('ExecSync of a missing binary reports the runtime error', async () => {
      await assert.rejects(cri.runtime.ExecSync({ container_id: containerId, cmd: ['/nonexistent'], timeout: 60 }),
        /\/nonexistent.*no such file or directory/i);
    });

    it('the container log file holds both streams in CRI log format', async () => {
      const file = logFile(pod, container);
      let lines = [];
      for (let i = 0; i < 100 && lines.length < 2; i++, await sleep(50)) {
        lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      }
      const parsed = lines.map((l) => LOG_LINE.exec(l));
      assert.ok(parsed.every(Boolean), `not CRI log lines: ${JSON.stringify(lines)}`);
      assert.deepEqual(parsed.map((m) => [m[3], m[4], m[5]]).sort(), [['stderr', 'F', 'err'], ['stdout', 'F', 'out']]);
    });

    it('StopContainer signals SIGTERM and records the exit code', async () => {
      await cri.runtime.StopContainer({ container_id: containerId, timeout: 60 });
      const { status } = await cri.runtime.ContainerStatus({ container_id: containerId });
      assert.equal(status.state, 'CONTAINER_EXITED');
      assert.equal(status.exit_code, 3);
      assert.match(readFileSync(logFile(pod, container), 'utf8'), / stdout F bye\n/);
    });

    it('RemoveContainer removes it, its cgroup, runtime state and rootfs mount', async () => {
      await cri.runtime.RemoveContainer({ container_id: containerId });
      await assertNotFound(cri.runtime.ContainerStatus({ container_id: containerId }), 'container');
      assert.deepEqual(existingCgroups(`${cgroupParent}/${containerId}`), []);
      if (runtimeState(containerId)) assert.equal(existsSync(runtimeState(containerId)), false);
      assert.deepEqual(mountsNaming(containerId), []);
      assert.equal(existsSync(join(daemon.dir, 'state/io.containerd.runtime.v2.task', CRI_NAMESPACE, containerId)), false);
    });

    it('StopPodSandbox stops the sandbox', async () => {
      await cri.runtime.StopPodSandbox({ pod_sandbox_id: podId });
      const { status } = await cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId });
      assert.equal(status.state, 'SANDBOX_NOTREADY');
    });

    it('RemovePodSandbox removes it and everything it had: cgroups, state, mounts, shim', async () => {
      await cri.runtime.RemovePodSandbox({ pod_sandbox_id: podId });
      pods.delete(podId);
      await assertNotFound(cri.runtime.PodSandboxStatus({ pod_sandbox_id: podId }), 'sandbox');
      assert.deepEqual((await cri.runtime.ListContainers({ filter: { pod_sandbox_id: podId } })).containers, []);
      assert.deepEqual(existingCgroups(`${cgroupParent}/${podId}`), []);
      if (runtimeState(podId)) assert.equal(existsSync(runtimeState(podId)), false);
      // The sandbox's /dev/shm and rootfs mounts, its state and CRI's own dirs.
      assert.deepEqual(mountsNaming(podId), []);
      for (const dir of [`state/io.containerd.runtime.v2.task/${CRI_NAMESPACE}`, 'state/io.containerd.grpc.v1.cri/sandboxes', 'root/io.containerd.grpc.v1.cri/sandboxes']) {
        assert.equal(existsSync(join(daemon.dir, dir, podId)), false, `${dir}/${podId} left behind`);
      }
      await waitNoProcessNaming(podId);
    });
  });
}
