// The exec fifo holds a created init back until `start`: the init blocks in
// open(exec.fifo, O_WRONLY) and, once a reader appears, writes one byte and
// execs (the fd is close-on-exec). A writer blocked in open already counts as
// a writer, so after a non-blocking open for reading one read tells the cases
// apart without waiting: EOF means no init is waiting. Otherwise the byte and
// then the EOF of the execve are waited for in plain blocking reads (start has
// nothing else to do meanwhile): no event loop, no stream, no polling.
import { openSync, readSync, closeSync, unlinkSync, constants } from 'node:fs';
import { NsexecError, StateConflictError, SystemError } from '../errors.js';

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = constants;

function open(path: string, flags: number, what: string): number {
  try {
    return openSync(path, flags);
  } catch (e) {
    throw new SystemError(what, path, e as Error);
  }
}

/** Bytes read into buf (0 at EOF), or -1 for EAGAIN on a non-blocking fd. */
function readOne(fd: number, path: string, buf = Buffer.alloc(1)): number {
  try {
    return readSync(fd, buf);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
    throw new SystemError('read exec fifo', path, e as Error);
  }
}

/** Once released (a missing fifo is fine). unlink, not rmSync, which loads Node's recursive remover. */
export function removeExecFifo(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SystemError('remove exec fifo', path, e as Error);
  }
}

function throwInitError(text: string): never {
  const line = text.trim().split('\n').pop() ?? '';
  let ev: { stage?: string; message?: string; syscall?: string; errno?: number; path?: string } = {};
  try {
    ev = JSON.parse(line);
  } catch {
    // not an event: the text itself is all there is to say
  }
  throw new NsexecError(ev.stage ?? 'start', ev.message ?? `container process failed before exec: ${line}`, ev.syscall, ev.errno, ev.path);
}

export function releaseExecFifo(path: string): void {
  const probe = open(path, O_RDONLY | O_NONBLOCK, 'open exec fifo');
  try {
    const first = readOne(probe, path);
    if (first === 0) throw new StateConflictError('container process is already dead');
    // A blocking open for reading waits for a writer: a write end of our own, held
    // only across that open, makes it return at once even if the init has just died.
    const ours = open(path, O_WRONLY | O_NONBLOCK, 'open exec fifo');
    let fd: number;
    try {
      fd = open(path, O_RDONLY, 'open exec fifo');
    } finally {
      closeSync(ours);
    }
    try {
      if (first < 0 && readOne(fd, path) === 0) throw new StateConflictError('container process is already dead');
      // EOF once every write end is closed: the init's are close-on-exec. Anything
      // after the byte is nsexec's error event: the init failed before its execve.
      const chunks: Buffer[] = [];
      for (let buf = Buffer.alloc(4096), n; (n = readOne(fd, path, buf)) > 0; buf = Buffer.alloc(4096)) chunks.push(buf.subarray(0, n));
      if (chunks.length) throwInitError(Buffer.concat(chunks).toString());
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(probe);
  }
}
