// Command output through write(2) on fds 1 and 2: touching process.stdout or
// process.stderr loads Node's stream, net and tty modules (~3 ms of start-up)
// for a few hundred bytes.
import { writeSync } from 'node:fs';

function writeAll(fd: 1 | 2, text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      // A full non-blocking pipe: the stream writes the rest once it drains.
      (fd === 1 ? process.stdout : process.stderr).write(rest);
      return;
    }
  }
}

export function writeOut(text: string): void {
  writeAll(1, text);
}

export function writeErr(text: string): void {
  writeAll(2, text);
}
