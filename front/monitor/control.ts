// Writing to a monitor's control fifo (monitor.c --control-fifo): the one way
// its terminal's size is set, by rocker's attached terminal and by the containerd
// shim's ResizePty (whose bundle takes this directory for it).
import { closeSync, constants, openSync, writeSync } from 'node:fs';

/**
 * Sets the container's terminal to `rows` x `cols`. One line in one write (below
 * PIPE_BUF: atomic between writers); non-blocking, and a monitor that is gone
 * (ENXIO, ENOENT) is no error: its container has no terminal left to size.
 */
export function resizeTerminal(fifo: string, rows: number, cols: number): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return;
  }
  try {
    writeSync(fd, `resize ${rows} ${cols}\n`);
  } catch {
    // A full fifo (a monitor not reading) loses this size; the next one is sent whole.
  } finally {
    closeSync(fd);
  }
}
