// A container's status from what is on disk and what the runtime says, and the
// verbs that change it (stop, kill, start, remove), each safe on a half-made container.
import { readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:os';
import { RockerError } from '../runtime/errors.js';
import { monitorOf, startMonitor, workersOf } from './monitor.js';
import { runtime, runtimeOk, runtimeStatus } from './runtime.js';
import type { Containers, ContainerRecord, ExitRecord } from './state.js';

export type Status =
  | { state: 'exited'; exit: ExitRecord }
  | { state: 'created' | 'running' | 'paused' }
  /** Half-made (a crash before the monitor reported) or lost (the monitor gone, no exit recorded). */
  | { state: 'dead' };

/** A runtime status with a container process to stop. */
const live = (s: string | undefined): s is 'created' | 'running' | 'paused' => s === 'created' || s === 'running' || s === 'paused';

export async function statusOf(containers: Containers, c: ContainerRecord | undefined, id: string): Promise<Status> {
  const exit = await containers.exit(id);
  if (exit) return { state: 'exited', exit };
  if (!c || !monitorOf(containers.paths(id), c.monitorPid)) return { state: 'dead' };
  const s = await runtimeStatus(c);
  return live(s) ? { state: s } : { state: 'dead' };
}

/** Resolves when the monitor has written the exit file; false after `ms`, or at once when there is no monitor to write it. */
export async function waitExit(containers: Containers, c: ContainerRecord, ms = Infinity): Promise<ExitRecord | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const exit = await containers.exit(c.id);
    if (exit) return exit;
    if (!monitorOf(containers.paths(c.id), c.monitorPid) || Date.now() >= until) return undefined;
    await sleep(50);
  }
}

/** The parts of the bundle's config.json read here; empty when there is no bundle. */
async function bundleConfig(containers: Containers, c: ContainerRecord): Promise<{ annotations?: Record<string, string>; process?: { terminal?: boolean } }> {
  return JSON.parse(await readFile(`${containers.paths(c.id).bundle}/config.json`, 'utf8').catch(() => '{}'));
}

/** The container has a terminal (run -t): its config says so. */
export async function hasTerminal(containers: Containers, c: ContainerRecord): Promise<boolean> {
  return Boolean((await bundleConfig(containers, c)).process?.terminal);
}

/** The image's StopSignal (an annotation of the bundle), else SIGTERM. */
export async function stopSignal(containers: Containers, c: ContainerRecord): Promise<string> {
  return (await bundleConfig(containers, c)).annotations?.['org.opencontainers.image.stopSignal'] || 'SIGTERM';
}

/** Normalises "int", "SIGINT", "2" to what every runc-compatible runtime accepts. */
export function signalName(sig: string): string {
  if (/^[0-9]+$/.test(sig)) return sig;
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  if (!(name in constants.signals)) throw new RockerError(`invalid signal "${sig}"`);
  return name;
}

export async function kill(c: ContainerRecord, sig: string): Promise<void> {
  await runtimeOk(c, ['kill', c.id, signalName(sig)]);
}

/**
 * stop: StopSignal, `timeout` seconds of grace, then SIGKILL. A stopped container is left as it is.
 * One whose monitor is gone (Dead) may still run: no exit file will come, so the runtime's state is watched.
 */
export async function stop(containers: Containers, c: ContainerRecord, timeoutSec: number): Promise<void> {
  const s = await statusOf(containers, c, c.id);
  if (s.state === 'exited') return;
  const watched = s.state !== 'dead';
  const state = watched ? s.state : await runtimeStatus(c);
  if (!live(state)) return;
  const ended = async (ms: number) => {
    if (watched) return Boolean(await waitExit(containers, c, ms));
    for (const until = Date.now() + ms; ; await sleep(50)) {
      if (!live(await runtimeStatus(c))) return true;
      if (Date.now() >= until) return false;
    }
  };
  if (state === 'paused') await runtime(c, ['resume', c.id]);
  await runtime(c, ['kill', c.id, signalName(await stopSignal(containers, c))]);
  if (await ended(timeoutSec * 1000)) return;
  await runtime(c, ['kill', c.id, 'SIGKILL']);
  // (A monitor that died meanwhile leaves no exit to wait for: not an error of the stop.)
  if (!(await ended(30000)) && (!watched || monitorOf(containers.paths(c.id), c.monitorPid))) {
    throw new RockerError(`container ${c.name} did not stop after SIGKILL`);
  }
}

/**
 * rm: the runtime's container (its cgroups, network via poststop hooks), the
 * monitor, the bundle (overlay mount), the name and the directory with the log.
 * Every step tolerates a missing part, so a half-made container is removed too.
 */
export async function remove(containers: Containers, id: string, force: boolean): Promise<void> {
  const c = await containers.load(id).catch(() => undefined);
  if (c) {
    const s = await statusOf(containers, c, id);
    if (s.state === 'running' || s.state === 'paused' || s.state === 'created') {
      if (!force) throw new RockerError(`container ${c.name} is ${s.state}: stop it first or use rm -f`);
      await runtime(c, ['kill', c.id, 'SIGKILL']);
      await waitExit(containers, c, 10000);
    }
    await endRun(containers, c);
  }
  await removeBundleDir(containers.paths(id).bundle);
  await containers.remove(id);
}

/**
 * The last run's runtime container and monitor, gone (either may be gone
 * already). A runtime `create` still at work (its `rocker` or monitor killed)
 * is let finish first: a container it made after the delete would be left.
 */
async function endRun(containers: Containers, c: ContainerRecord): Promise<void> {
  const p = containers.paths(c.id);
  for (const end = Date.now() + 60000; workersOf(p).creates.length && Date.now() < end; ) await sleep(50);
  const del = await runtime(c, ['delete', '--force', c.id]);
  if (del.code !== 0 && (await runtimeStatus(c)) !== undefined) throw new RockerError(`removing ${c.name}: ${del.stderr.trim()}`);
  // A monitor still there (no init ever reported, or output still held) has nothing left to watch.
  for (const pid of workersOf(p).monitors) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* it ended meanwhile */
    }
  }
}

/**
 * start: a created container is started; an exited (or dead) one gets a new run
 * of the same bundle with a new monitor, which appends to the same log. Between
 * the exit file's removal and the new pids being saved, `ps` shows it Dead and
 * `rm -f` removes it. `beforeStart` (start -a: attaching) runs once the monitor
 * is there, before the runtime's start; false when it was running already.
 */
export async function start(containers: Containers, c: ContainerRecord, beforeStart?: () => Promise<void>): Promise<boolean> {
  const s = await statusOf(containers, c, c.id);
  if (s.state === 'running' || s.state === 'paused') return false;
  if (s.state !== 'created') {
    await endRun(containers, c);
    await rm(containers.paths(c.id).exit, { force: true });
    Object.assign(c, await startMonitor(containers, c, { tty: await hasTerminal(containers, c), stdin: c.stdin }));
    await containers.save(c);
  }
  await beforeStart?.();
  await runtimeOk(c, ['start', c.id]);
  return true;
}

async function removeBundleDir(bundle: string): Promise<void> {
  if (!(await stat(bundle).catch(() => null))) return;
  const { removeBundle } = await import('../imagetool/bundle/unbundle.js');
  const { bundleUsers } = await import('../imagetool/bundle/in-use.js');
  // Processes of a container whose monitor was gone (nothing waited for them) may still be exiting.
  for (const end = Date.now() + 10000; (await bundleUsers(bundle)).length && Date.now() < end; ) await sleep(100);
  const { unmount } = await import('../imagetool/bundle/overlay-mount.js');
  await removeBundle(bundle).catch(async (err) => {
    // A bundle cut short by a crash has no record: its rootfs may still be mounted.
    // A failing umount throws here: nothing is removed through a mount.
    await unmount(`${bundle}/rootfs`);
    if ((await stat(`${bundle}/rocker-bundle.json`).catch(() => null)) !== null) throw err;
  });
}
