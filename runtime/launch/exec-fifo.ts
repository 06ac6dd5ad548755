// The exec fifo holds a created init back until `start`: the init blocks in
// open(exec.fifo, O_WRONLY) and, once a reader appears, writes one byte and
// execs (the fd is close-on-exec). A writer blocked in open already counts as
// a writer, so after a non-blocking open for reading one read tells the cases
// apart without waiting: EOF means no init is waiting. Otherwise the byte and
// then the EOF of the execve are waited for in plain blocking reads (start has
// nothing else to do meanwhile): no event loop, no stream, no polling. An init
// that fails between its byte and its execve (a startContainer hook, seccomp, the
// exec itself) writes its error line into the fifo before it exits.
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

/** Bytes read into `buf` (0 at EOF), or -1 for EAGAIN on a non-blocking fd. */
function readSome(fd: number, path: string, buf = Buffer.alloc(1)): number {
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

/** The error an init reported through the fifo (an nsexec error line, PROTOCOL.md), as thrown by the channel. */
function initError(text: string): NsexecError {
  let ev: { stage?: unknown; message?: unknown; syscall?: unknown; errno?: unknown; path?: unknown } = {};
  try {
    ev = JSON.parse(text.split('\n')[0]) ?? {};
  } catch {
    // Not an error line: reported as what it is.
  }
  if (typeof ev.stage !== 'string' || typeof ev.message !== 'string') {
    return new NsexecError('start', `the container process failed before its execve: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const opt = <T>(v: unknown, type: string): T | undefined => (typeof v === type ? (v as T) : undefined);
  return new NsexecError(ev.stage, ev.message, opt(ev.syscall, 'string'), opt(ev.errno, 'number'), opt(ev.path, 'string'));
}

/**
 * Lets the init go on to its execve and waits for that. Returns the error the init
 * reported instead when it failed on the way (it has exited then).
 */
export function releaseExecFifo(path: string): NsexecError | undefined {
  const probe = open(path, O_RDONLY | O_NONBLOCK, 'open exec fifo');
  try {
    const first = readSome(probe, path);
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
      if (first < 0 && readSome(fd, path) === 0) throw new StateConflictError('container process is already dead');
      // EOF once every write end is closed: the init's are close-on-exec. Anything
      // before it is an error line (at most 8 KiB, so it fits in the fifo at once).
      const chunks: Buffer[] = [];
      for (let n: number, buf = Buffer.alloc(8192); (n = readSome(fd, path, buf)) > 0; buf = Buffer.alloc(8192)) {
        chunks.push(buf.subarray(0, n));
      }
      return chunks.length ? initError(Buffer.concat(chunks).toString('utf8')) : undefined;
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(probe);
  }
}
