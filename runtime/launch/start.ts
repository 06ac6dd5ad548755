// The start operation (lifecycle steps 6-9): release a created init through
// its exec fifo, then run the poststart hooks. A failing startContainer or
// poststart hook stops and destroys the container (runtime.md step 9).
import { containerDir } from '../state/container-dir.js';
import { readState, type ContainerState } from '../state/state-file.js';
import { deriveStatus } from '../state/status.js';
import { ociState } from '../state/oci-state.js';
import { lockContainer } from '../state/lock.js';
import { teardown } from '../state/destroy.js';
import { releaseExecFifo, removeExecFifo } from './exec-fifo.js';
import { StateConflictError } from '../errors.js';
import type { Logger } from '../log/logger.js';

const NOT_STARTABLE: Record<string, string> = {
  running: 'cannot start an already running container',
  paused: 'cannot start a container in the paused state',
  stopped: 'cannot start a container that has stopped',
  creating: 'cannot start a container that is still being created',
};

export async function startContainer(root: string, id: string, logger: Logger): Promise<ContainerState> {
  const cd = containerDir(root, id);
  const lock = await lockContainer(root, id);
  try {
    const st = readState(cd);
    const status = await deriveStatus(cd, st);
    if (status !== 'created') throw new StateConflictError(NOT_STARTABLE[status]);
    const initFailed = releaseExecFifo(cd.execFifo);
    removeExecFifo(cd.execFifo);
    try {
      // The init died on its way to execve (a startContainer hook failed...): the
      // container is destroyed as for a failed poststart hook (runtime spec, lifecycle step 7).
      if (initFailed) throw initFailed;
      // run-hooks (and child_process) is loaded only for a container that has hooks.
      const poststart = st.config.hooks?.poststart;
      if (poststart?.length) await (await import('../hooks/run-hooks.js')).runHooks('poststart', poststart, ociState(st, 'running'));
    } catch (e) {
      await teardown(cd, st, (m) => logger.warn(m));
      throw e;
    }
    return st;
  } finally {
    lock.release();
  }
}
