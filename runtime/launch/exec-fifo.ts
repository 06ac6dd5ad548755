// The exec fifo holds a created init back until `start`: the init blocks in
// open(exec.fifo, O_WRONLY) and, once a reader appears, writes one byte and
// execs (the fd is close-on-exec). A writer blocked in open already counts as
// a writer, so after a non-blocking open for reading one read tells the cases
// apart without waiting: EOF means no init is waiting; otherwise the byte and
// then the EOF of the execve arrive as events. No polling.
import { openSync, readSync, closeSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import { StateConflictError, SystemError } from '../errors.js';

export async function releaseExecFifo(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new SystemError('open exec fifo', path, e as Error);
  }
  // -1: EAGAIN, the init holds the fifo open and has not written yet.
  let first = -1;
  try {
    first = readSync(fd, Buffer.alloc(1));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
      closeSync(fd);
      throw new SystemError('read exec fifo', path, e as Error);
    }
  }
  if (first === 0) {
    closeSync(fd);
    throw new StateConflictError('container process is already dead');
  }
  // The rest arrives as events: the byte (if not read yet), then EOF once the init execs.
  const released = await new Promise<boolean>((resolve) => {
    let data = first > 0;
    const sock = new Socket({ fd, readable: true, writable: false });
    sock.on('data', () => (data = true));
    sock.on('error', () => undefined);
    sock.once('close', () => resolve(data));
  });
  if (!released) throw new StateConflictError('container process is already dead');
}
