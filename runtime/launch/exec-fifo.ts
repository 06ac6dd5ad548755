// The exec fifo holds a created init back until `start`: the init blocks in
// open(exec.fifo, O_WRONLY) and, once a reader appears, writes one byte and
// execs. A writer blocked in open already counts as a writer, so a
// non-blocking open for reading followed by an event-driven read cannot race:
// data means the init was released; EOF with no data means no init is waiting.
import { openSync, constants, closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { StateConflictError, SystemError } from '../errors.js';

export async function releaseExecFifo(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new SystemError('open exec fifo', path, e as Error);
  }
  const got = await new Promise<boolean>((resolve) => {
    let sock: Socket;
    try {
      sock = new Socket({ fd, readable: true, writable: false });
    } catch {
      closeSync(fd);
      return resolve(false);
    }
    let data = false;
    sock.on('data', () => (data = true));
    sock.on('error', () => undefined);
    sock.once('close', () => resolve(data));
  });
  if (!got) throw new StateConflictError('container process is already dead');
}
