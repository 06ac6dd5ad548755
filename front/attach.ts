// Connecting our terminal or stdin to a container through its monitor's attach
// socket (front/monitor/monitor.c): what we send is the container's input, and
// with a terminal what comes back is its output.
import { connect, type Socket } from 'node:net';
import { UsageError } from '../runtime/errors.js';
import { resizeTerminal } from './monitor/control.js';

export function connectAttach(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Our terminal's size onto the container's (through its monitor's control
 * fifo) now and on every change (SIGWINCH), as docker's attach does; returns
 * the stop. Nothing when our output is no terminal.
 */
export function followSize(fifo: string): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => {};
  const send = () => resizeTerminal(fifo, out.rows, out.columns);
  send();
  out.on('resize', send);
  return () => void out.off('resize', send);
}

/** docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** docker's --detach-keys: "ctrl-p,ctrl-q" → [0x10, 0x11]; a key is a character or ctrl-<a-z @ [ \ ] ^ _>. "" is none. */
export function parseDetachKeys(spec: string): number[] {
  if (spec === '') return [];
  return spec.split(',').map((k) => {
    if (k.length === 1) return k.charCodeAt(0);
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (!m) throw new UsageError(`invalid --detach-keys "${spec}": a key is one character or ctrl-<a-z, @, [, \\, ], ^ or _>`);
    return m[1].charCodeAt(0) & 0x1f;
  });
}

/**
 * Our input with the detach sequence taken out: bytes that may begin it are
 * held until the sequence is complete (`onDetach`) or broken (then they go on).
 */
function detachFilter(keys: number[], send: (b: Buffer) => void, onDetach: () => void): (b: Buffer) => void {
  let held = 0;
  return (chunk) => {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === keys[held]) {
        if (++held === keys.length) return void (send(Buffer.from(out)), onDetach());
        continue;
      }
      out.push(...keys.slice(0, held));
      held = 0;
      if (byte === keys[0]) held = 1;
      else out.push(byte);
    }
    if (out.length) send(Buffer.from(out));
  };
}

/**
 * Relays until the monitor closes the socket (the container has exited and the
 * exit file is written) or, with a terminal, until our input has the detach
 * keys. With `tty` our terminal is raw while our input goes in, and the output
 * comes from the socket; otherwise it comes from the log (stdout and stderr apart) and the
 * socket's copy is dropped.
 */
export function relay(socket: Socket, o: { tty: boolean; stdin: boolean; detachKeys?: number[] }): Promise<'closed' | 'detached'> {
  // Raw only when our keys go in (else ctrl-c is ours, and forwarded as SIGINT).
  const raw = o.tty && o.stdin && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  if (o.tty) socket.pipe(process.stdout, { end: false });
  else socket.resume();
  return new Promise((resolve) => {
    let how: 'closed' | 'detached' = 'closed';
    const done = () => {
      if (raw) process.stdin.setRawMode(false);
      process.stdin.off('data', onInput);
      // A terminal being read keeps the process alive: nothing more is read from it.
      process.stdin.destroy();
      resolve(how);
    };
    const send = (b: Buffer) => void (b.length && socket.write(b));
    const keys = o.tty ? (o.detachKeys ?? []) : [];
    const onInput = keys.length ? detachFilter(keys, send, () => ((how = 'detached'), socket.destroy())) : send;
    if (o.stdin) {
      process.stdin.on('data', onInput);
      // The end of our input ends the container's stdin (the monitor closes its pipe).
      process.stdin.on('end', () => socket.end());
    }
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', done);
  });
}
