// The delete operation, shared by `delete` and the containerd shim: destroy a
// stopped container, running its poststop hooks; `force` kills a live one first,
// and an unknown id is then not an error (containerd's cleanup path relies on that).
import { containerDir } from '../state/container-dir.js';
import { readState } from '../state/state-file.js';
import { deriveStatus } from '../state/status.js';
import { lockContainer } from '../state/lock.js';
import { teardown, teardownBroken, removeStateDir } from '../state/destroy.js';
import { NotFoundError, StateConflictError, StateFileError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export async function deleteContainer(root: string, id: string, force: boolean, systemdCgroup: boolean, logger: Logger): Promise<void> {
  const cd = containerDir(root, id);
  const lock = await lockContainer(root, id);
  try {
    let st;
    try {
      st = readState(cd);
    } catch (e) {
      // A runtime killed between mkdir and the first state.json leaves an empty dir.
      if (e instanceof NotFoundError && force) return removeStateDir(cd);
      if (e instanceof StateFileError && force) return teardownBroken(cd, e.salvage, systemdCgroup, (m) => logger.warn(m));
      throw e;
    }
    const status = deriveStatus(cd, st);
    // The spec: deleting a container that is not stopped MUST be an error (runc lets a
    // created one go; crun and the spec do not), so created, creating, running and paused need --force.
    if (status !== 'stopped' && !force) {
      throw new StateConflictError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    await teardown(cd, st, (m) => logger.warn(m));
  } finally {
    lock.release();
  }
}
