// containerd 1.6 with each shim configuration side by side, in one private daemon
// (test/clients/lib/cri/pods.mjs): the runc shim with runc, the runc shim with
// rocker-runtime as its BinaryName, and the rocker shim (io.containerd.rocker.v2) when
// bin/containerd-shim-rocker-v2 exists. Per configuration: `ctr run --rm` of true, CRI
// sandbox start and container create + start, CRI ExecSync of true, 50 containers
// created and started in parallel in one pod, and the RSS and PSS of the shim processes (with
// any per-container monitor they start) per container: right after the starts, and idle
// (once the rocker shim's Node worker has ended; the runc shim has no such phase). Samples are interleaved, the
// order of the configurations rotating from run to run; medians are reported.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, pssKiB, rssKiB, timeOnce } from './lib/stats.mjs';
import { criClient } from '../test/clients/lib/cri/client.mjs';
import { criHandlers, startCriDaemon, podConfig, containerConfig } from '../test/clients/lib/cri/pods.mjs';
import { RUNC_SHIM } from '../test/clients/lib/containerd-daemon.mjs';
import { BUSYBOX_REF } from '../test/clients/lib/busybox-image.mjs';
import { pidsWithCmdline, removeCgroupTree } from '../test/clients/lib/cleanup.mjs';

const PARALLEL = 50;
const IDLE = ['sleep', '1000000'];
/** Longer than the rocker shim's worker lingers after its last call (shim/main.ts LINGER_MS). */
const WORKER_END_MS = 60_000;

const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: msSince(t0), value };
}
const stats = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length } : undefined);

/** pid and its descendants (from the kernel's children list of each of its threads: Go forks from any). */
function withDescendants(pid) {
  let children = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    // exited meanwhile
  }
  return [pid, ...children.flatMap(withDescendants)];
}

/**
 * The RSS and PSS (KiB) of the CRI namespace's shims and of what they started outside the
 * containers' cgroups (monitors, not container processes), and how many processes that
 * is: under load the runc shim was seen to split a pod over two shims. Whatever the
 * grouping (the runc shim's one per pod, or one per namespace), their command lines
 * name a path of the daemon's (its socket; a monitor's bundle). Left out: containerd,
 * the long-lived shims of ctr's namespace and runtime calls in flight (they name the
 * runtimes' --root).
 */
function shimMemory(daemon, ctrNamespace, cgroupParent) {
  const others = new Set([daemon.child.pid, ...pidsWithCmdline(`-namespace ${ctrNamespace}`), ...pidsWithCmdline(daemon.runtimeRoots)]);
  const named = pidsWithCmdline(daemon.dir).filter((pid) => !others.has(pid));
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of new Set(named.flatMap(withDescendants))) {
    try {
      if (others.has(pid) || readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`${cgroupParent}/`)) continue;
      rss += rssKiB(pid);
      pss += pssKiB(pid);
      processes++;
    } catch {
      // exited meanwhile
    }
  }
  return { rss, pss, processes };
}

/** A rocker shim worker (the holder's Node child, shim/main.ts) serving this daemon runs. */
function workerRuns(daemon) {
  return pidsWithCmdline(daemon.dir).some((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      return args.at(-1) === 'worker' && !args[0].endsWith('rocker-shim-holder');
    } catch {
      return false;
    }
  });
}

async function workersEnded(daemon) {
  const t0 = Date.now();
  while (workerRuns(daemon)) {
    if (Date.now() - t0 > WORKER_END_MS) throw new Error(`the rocker shim's worker still runs ${WORKER_END_MS} ms after its last call`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function benchShim(runs, parallelRuns) {
  const handlers = criHandlers();
  const work = mkdtempSync(join(tmpdir(), 'bench-shim-'));
  const cgroupParent = `/bench-shim-${process.pid}`;
  const ctrNamespace = `bench-shim-${process.pid}`;
  const samples = Object.fromEntries(handlers.map((h) => [h.name, { ctrRun: [], sandbox: [], container: [], exec: [], rssPerPod: [], parallel: [], rssPerContainer: [], pssPerContainer: [], rssIdle: [], pssIdle: [], shimProcesses: [], idleProcesses: [] }]));
  let daemon;
  let cri;
  const pods = new Set();
  let seq = 0;
  const podOf = () => podConfig({ name: `bench-${process.pid}-${seq++}`, logDir: join(work, 'logs'), cgroupParent });

  async function removePod(id) {
    await cri.runtime.StopPodSandbox({ pod_sandbox_id: id });
    await cri.runtime.RemovePodSandbox({ pod_sandbox_id: id });
    pods.delete(id);
  }

  async function startPod(handler) {
    const config = podOf();
    const { ms, value } = await timed(() => cri.runtime.RunPodSandbox({ config, runtime_handler: handler.name }));
    pods.add(value.pod_sandbox_id);
    return { ms, id: value.pod_sandbox_id, config };
  }

  async function startContainer(pod, name) {
    const config = containerConfig({ name, command: IDLE });
    const { container_id: id } = await cri.runtime.CreateContainer({ pod_sandbox_id: pod.id, config, sandbox_config: pod.config });
    await cri.runtime.StartContainer({ container_id: id });
    return id;
  }

  const ctrRuntime = (h) => (h.type === RUNC_SHIM ? ['--runtime', RUNC_SHIM, '--runc-binary', h.binary] : ['--runtime', h.type]);

  /** One sample of the sequential measures; `record` false for the warm-up. */
  async function once(h, i, record) {
    const s = samples[h.name];
    const ctrMs = timeOnce(daemon.ctrArgv(ctrNamespace, ['run', '--rm', ...ctrRuntime(h), BUSYBOX_REF, `r${i}-${h.name}`, 'true']));
    const pod = await startPod(h);
    const container = await timed(() => startContainer(pod, 'c'));
    const execs = [];
    for (let k = 0; k < 3; k++) execs.push((await timed(() => cri.runtime.ExecSync({ container_id: container.value, cmd: ['true'], timeout: 60 }))).ms);
    const { rss } = shimMemory(daemon, ctrNamespace, cgroupParent);
    await removePod(pod.id);
    if (!record) return;
    s.ctrRun.push(ctrMs);
    s.sandbox.push(pod.ms);
    s.container.push(container.ms);
    s.exec.push(...execs);
    s.rssPerPod.push(rss);
  }

  async function parallelOnce(h) {
    const pod = await startPod(h);
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: PARALLEL }, (_, k) => startContainer(pod, `p${k}`)));
    samples[h.name].parallel.push(msSince(t0));
    const { rss, pss, processes } = shimMemory(daemon, ctrNamespace, cgroupParent);
    samples[h.name].rssPerContainer.push(rss / PARALLEL);
    samples[h.name].pssPerContainer.push(pss / PARALLEL);
    samples[h.name].shimProcesses.push(processes);
    await workersEnded(daemon);
    const idle = shimMemory(daemon, ctrNamespace, cgroupParent);
    samples[h.name].rssIdle.push(idle.rss / PARALLEL);
    samples[h.name].pssIdle.push(idle.pss / PARALLEL);
    samples[h.name].idleProcesses.push(idle.processes);
    await removePod(pod.id);
  }

  const rotated = (i) => handlers.map((_, k) => handlers[(k + i) % handlers.length]);
  try {
    let archive;
    ({ daemon, archive } = await startCriDaemon(work, handlers));
    cri = criClient(daemon.socket, { deadlineMs: 300_000 });
    timeOnce(daemon.ctrArgv(ctrNamespace, ['image', 'import', archive]));
    for (const h of handlers) await once(h, -1, false);
    for (let i = 0; i < runs; i++) for (const h of rotated(i)) await once(h, i, true);
    for (let i = 0; i < parallelRuns; i++) for (const h of rotated(i)) await parallelOnce(h);
    return Object.fromEntries(handlers.map((h) => {
      const s = samples[h.name];
      return [h.name, {
        ctrRunMs: stats(s.ctrRun),
        sandboxStartMs: stats(s.sandbox),
        containerStartMs: stats(s.container),
        execMs: stats(s.exec),
        parallelStartMs: stats(s.parallel),
        shimRssPerPodKiB: stats(s.rssPerPod),
        shimRssPerContainerKiB: stats(s.rssPerContainer),
        shimPssPerContainerKiB: stats(s.pssPerContainer),
        shimProcessesFor50: s.shimProcesses,
        idleRssPerContainerKiB: stats(s.rssIdle),
        idlePssPerContainerKiB: stats(s.pssIdle),
        idleProcessesFor50: s.idleProcesses,
      }];
    }));
  } catch (e) {
    return { error: String(e.message).slice(0, 500) };
  } finally {
    for (const id of pods) await removePod(id).catch(() => {});
    cri?.close();
    await daemon?.stop();
    await removeCgroupTree(cgroupParent);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Rows of the summary in docs/benchmarks.md. */
export function shimTable(result, runs, parallelRuns) {
  const fmt = (x) => (x === undefined ? 'n/a' : x.toFixed(1));
  const label = { runc: 'runc shim + runc', 'rocker-runtime': 'runc shim + rocker-runtime', rocker: 'rocker shim' };
  if (result.error) return [`containerd shims: FAILED: ${result.error}`];
  return [
    `| containerd 1.6 (medians: ${runs} runs, exec x3, ${parallelRuns} of the 50) | ctr run --rm true ms | CRI sandbox start ms | CRI container create+start ms | CRI exec true ms | 50 parallel container starts ms | shim RSS, 1-container pod KiB | 50 in a pod, after the starts: shim RSS / PSS per container KiB (processes) | 50 in a pod, idle: shim RSS / PSS per container KiB (processes) |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(result).map(([name, r]) =>
      `| ${label[name] ?? name} | ${fmt(r.ctrRunMs?.median)} | ${fmt(r.sandboxStartMs?.median)} | ${fmt(r.containerStartMs?.median)} | ${fmt(r.execMs?.median)} | ${fmt(r.parallelStartMs?.median)} | ${fmt(r.shimRssPerPodKiB?.median)} | ${fmt(r.shimRssPerContainerKiB?.median)} / ${fmt(r.shimPssPerContainerKiB?.median)} (${r.shimProcessesFor50?.join(', ') ?? 'n/a'}) | ${fmt(r.idleRssPerContainerKiB?.median)} / ${fmt(r.idlePssPerContainerKiB?.median)} (${r.idleProcessesFor50?.join(', ') ?? 'n/a'}) |`),
  ];
}

// `node bench/shim.mjs [RUNS [PARALLEL_RUNS]]`: this part alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 7);
  const parallelRuns = Number(process.argv[3] ?? 3);
  const result = await benchShim(runs, parallelRuns);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n${shimTable(result, runs, parallelRuns).join('\n')}\n`);
}
