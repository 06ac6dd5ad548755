// Connecting our terminal or stdin to a container through its monitor's attach
// socket (front/monitor/monitor.c): what we send is the container's input, and
// with a terminal what comes back is its output.
import { connect, type Socket } from 'node:net';

export function connectAttach(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Relays until the monitor closes the socket (the container has exited and the
 * exit file is written). With `tty` our terminal is raw meanwhile and the
 * output comes from the socket; otherwise it comes from the log (stdout and
 * stderr apart) and the socket's copy is dropped.
 */
export function relay(socket: Socket, o: { tty: boolean; stdin: boolean }): Promise<void> {
  const raw = o.tty && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  if (o.stdin) process.stdin.pipe(socket);
  if (o.tty) socket.pipe(process.stdout, { end: false });
  else socket.resume();
  return new Promise((resolve) => {
    socket.on('close', () => {
      if (raw) process.stdin.setRawMode(false);
      process.stdin.unpipe(socket);
      // A terminal being read keeps the process alive: nothing more is read from it.
      process.stdin.destroy();
      resolve();
    });
  });
}
