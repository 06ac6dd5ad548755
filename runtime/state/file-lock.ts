// Locks that only root can take or squat: a write lock on one byte of a file that
// root owns (mode 0600, in a directory root owns), held through an open file
// description (fcntl F_OFD_SETLK, from dist/rocker-lock.node: Node has no API for
// it). The kernel drops the lock when the description's last fd closes, so a holder
// killed with SIGKILL never leaves a stale lock; and since nobody else can open the
// file, no local user can take it first (an abstract unix socket name, the earlier
// lock, can be bound by anyone). Waiting blocks one thread of Node's pool in
// F_OFD_SETLKW: event driven, no polling.
import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';
import { SystemError } from '../errors.js';

export interface Lock {
  release(): void;
}

interface LockBinding {
  /** 0, or the errno (EAGAIN: held through another description). */
  tryLock(fd: number, offset: number): number;
  lockWait(fd: number, offset: number): Promise<number>;
}

let binding: LockBinding | undefined;
function native(): LockBinding {
  if (!binding) {
    const mod = { exports: {} as LockBinding };
    process.dlopen(mod, fileURLToPath(new URL('../../rocker-lock.node', import.meta.url)));
    binding = mod.exports;
  }
  return binding;
}

const EAGAIN = 11;
// Node opens every fd close-on-exec: nsexec and hooks never inherit it.
const OPEN_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

function errnoError(errno: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  return Object.assign(new Error(code), { code, errno: -errno });
}

/**
 * Callers in one process queue here for a (file, byte), so that at most one of
 * them waits in the kernel: each waiter holds a pool thread, and waiters filling
 * the pool would starve the holder's own file I/O.
 */
const queues = new Map<string, Promise<void>>();

/** Takes the lock on byte `offset` of `file` (made 0600 when missing), waiting while it is held. */
export async function lockFileByte(file: string, offset: number): Promise<Lock> {
  const key = `${file}\0${offset}`;
  const before = queues.get(key);
  let endTurn!: () => void;
  const turn = new Promise<void>((r) => (endTurn = r));
  const tail = before ? before.then(() => turn) : turn;
  queues.set(key, tail);
  const done = () => {
    endTurn();
    if (queues.get(key) === tail) queues.delete(key);
  };
  let fd: number;
  try {
    if (before) await before;
    fd = await takeLock(file, offset);
  } catch (e) {
    done();
    throw e;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
      done();
    },
  };
}

/** The fd that holds the lock through its open file description. */
async function takeLock(file: string, offset: number): Promise<number> {
  for (;;) {
    const [fd, held] = await lockOpened(file, offset);
    // Its holder may remove the file: a lock taken on a file no longer at `file`
    // excludes nobody, so it is taken again on the one there now.
    const now = statSync(file, { throwIfNoEntry: false });
    if (now && now.dev === held.dev && now.ino === held.ino) return fd;
    closeSync(fd);
  }
}

async function lockOpened(file: string, offset: number): Promise<[number, Stats]> {
  const fd = openSync(file, OPEN_FLAGS, 0o600);
  try {
    // A file another user could write or replace would let that user hold the lock.
    const st = fstatSync(fd);
    if (st.uid !== process.geteuid!() || (st.mode & 0o022) !== 0) {
      throw new SystemError('lock', file, new Error(`owned by uid ${st.uid} with mode ${(st.mode & 0o777).toString(8)}; expected this user's, not group or world writable`));
    }
    let err = native().tryLock(fd, offset);
    if (err === EAGAIN) err = await native().lockWait(fd, offset);
    if (err !== 0) throw new SystemError('lock', file, errnoError(err));
    return [fd, st];
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
