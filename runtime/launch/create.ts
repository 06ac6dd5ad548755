// The create operation (lifecycle steps 1-5), shared by `create` and `run`:
// validate the bundle, make the state dir and cgroups, drive nsexec through
// pid -> (createRuntime hooks) -> created. Any failure, including nsexec dying
// mid-way, tears everything down again before the error is reported.
import { existsSync, mkdirSync } from 'node:fs';
import { loadBundle } from '../spec/load.js';
import { containerDir, ensureRoot, type ContainerDir } from '../state/container-dir.js';
import { writeState, type ContainerState } from '../state/state-file.js';
import { joinTargets } from '../cgroups/join-targets.js';
import { lockContainer } from '../state/lock.js';
import { readProcStat } from '../state/proc.js';
import { cgroupsModule } from '../state/cgroups.js';
import { teardown } from '../state/destroy.js';
import { ociState } from '../state/oci-state.js';
import { runHooks } from '../hooks/run-hooks.js';
import { NsexecChannel, type NsexecLaunch } from './channel.js';
import { createInit } from './init-message.js';
import { writePidFile } from './pid-file.js';
import { NsexecError, RockerError, StateConflictError, SystemError, UsageError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export interface CreateRequest {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  systemdCgroup: boolean;
  /** nsexec's parent stays, reporting `running` and `exit` (run without -d). */
  foreground: boolean;
  /** run: no separate start step (see Release), unless poststart hooks need one. */
  startRightAway: boolean;
  logger: Logger;
  /** How nsexec is started (the containerd shim: under the container monitor, with containerd's fifos). */
  launch?: NsexecLaunch;
}

export interface CreatedContainer {
  cd: ContainerDir;
  state: ContainerState;
  /** Still open: a foreground run reads `running` and `exit` from it. */
  channel: NsexecChannel;
  release: Release;
}

/**
 * How the init is let go on to exec after `created`: `fifo`, by `start` reading the
 * exec fifo (create, and run with poststart hooks, which follow start); `continue`,
 * by a `continue` on the channel (a foreground run, once it forwards signals);
 * `none`, it goes right on (run -d).
 */
export type Release = 'fifo' | 'continue' | 'none';

export async function createContainer(req: CreateRequest): Promise<CreatedContainer> {
  const cd = containerDir(req.root, req.id);
  // nsexec gets going (two execs and their dynamic linking) while the bundle is checked
  // and the cgroups are made; it waits for `init`.
  const channel = NsexecChannel.spawn(req.preserveFds, req.launch);
  try {
    return await create(req, cd, channel);
  } catch (e) {
    channel.abort();
    throw e;
  }
}

async function create(req: CreateRequest, cd: ContainerDir, channel: NsexecChannel): Promise<CreatedContainer> {
  const bundle = loadBundle(req.bundle);
  const proc = bundle.config.process!;
  const release: Release =
    !req.startRightAway || bundle.config.hooks?.poststart?.length ? 'fifo' : req.foreground ? 'continue' : 'none';
  if (proc.terminal && !req.consoleSocket && !req.foreground) {
    throw new UsageError('cannot allocate tty if rocker-runtime will detach without setting console socket');
  }
  if (!proc.terminal && req.consoleSocket) {
    throw new UsageError('cannot use console socket if rocker-runtime will not detach or allocate tty');
  }
  ensureRoot(req.root);
  const lock = await lockContainer(req.root, req.id);
  try {
    try {
      mkdirSync(cd.dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StateConflictError(`container with id exists: ${req.id}`);
      throw new SystemError('mkdir', cd.dir, e as Error);
    }
    const state: ContainerState = {
      id: req.id,
      pid: 0,
      pidStartTime: 0,
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      created: new Date().toISOString(),
      owner: '',
      cgroupPaths: {},
      config: bundle.config,
    };
    try {
      const cg = await cgroupsModule().then((m) =>
        m.openCgroupManager({
          id: req.id,
          cgroupsPath: bundle.config.linux?.cgroupsPath,
          systemd: req.systemdCgroup,
          warn: (msg: string) => req.logger.warn(msg),
        }),
      );
      // Written before anything else exists, with the cgroups about to be made: a runtime
      // killed from here on leaves something `delete --force` can clean, cgroups included.
      // Only the ones that do not exist yet: a pre-existing cgroup (empty, or one create
      // refuses, such as a frozen one) is not this container's to remove if create fails.
      state.newCgroupPaths = Object.fromEntries(Object.entries(cg.paths).filter(([, dir]) => !existsSync(dir)));
      writeState(cd, state);
      // create() removes what it made when it fails. Only a cgroup create() accepted moves to
      // cgroupPaths, whose processes teardown kills (only the init when others were there first).
      await cg.create(bundle.config.linux?.resources);
      state.cgroupPaths = cg.paths;
      if (cg.shared) state.sharedCgroup = true;
      delete state.newCgroupPaths;
      // Before init: from its clone on, the container process is in these cgroups.
      writeState(cd, state);

      const hooks = bundle.config.hooks ?? {};
      channel.sendInit(
        createInit({
          config: bundle.config,
          bundle: bundle.dir,
          rootfs: bundle.rootfs,
          // nsexec makes the fifo (Node has no mkfifo): see PROTOCOL.md "The exec fifo".
          execFifo: release === 'fifo' ? cd.execFifo : undefined,
          startOnContinue: release === 'continue',
          foreground: req.foreground,
          consoleSocket: req.consoleSocket,
          preserveFds: req.preserveFds,
          noPivot: req.noPivot,
          noNewKeyring: req.noNewKeyring,
          // The child joins them itself, first thing: see nsexec/src/cgroupjoin.h.
          cgroups: joinTargets(cg.paths),
        }),
      );
      const { pid } = await channel.expect('pid');
      state.pid = pid;
      state.pidStartTime = readProcStat(pid)?.startTime ?? 0;
      writeState(cd, state);
      // `sync` comes only when the init message asked for it (createRuntimeSync).
      for (;;) {
        const ev = await channel.expect('sync', 'created');
        if (ev.type === 'created') break;
        // "created", as crun gives them: the init exists, in its namespaces and cgroups.
        const created = ociState(state, 'created');
        await runHooks('prestart', hooks.prestart, created);
        await runHooks('createRuntime', hooks.createRuntime, created);
        // The state rides along for the hooks inside the container and a seccomp listener,
        // which get runc's "creating": the container is still being set up for them.
        channel.send({ type: 'continue', state: JSON.stringify(ociState(state, 'creating')) });
      }
      if (req.pidFile) writePidFile(req.pidFile, pid);
      return { cd, state, channel, release };
    } catch (e) {
      // nsexec first: nothing of it may outlive the teardown.
      channel.abort();
      // An init the OOM killer ended shows up as a broken protocol; say what happened instead.
      const oom = e instanceof NsexecError && e.stage === 'protocol' && Object.keys(state.cgroupPaths).length
        ? (await cgroupsModule()).memoryLimitRefusal(state.cgroupPaths, (bundle.config.linux?.resources as { memory?: { limit?: number } } | undefined)?.memory?.limit)
        : undefined;
      await teardown(cd, state, (m) => req.logger.warn(m));
      if (oom) throw new RockerError(oom, { stage: 'cgroups' });
      throw e;
    }
  } finally {
    lock.release();
  }
}
