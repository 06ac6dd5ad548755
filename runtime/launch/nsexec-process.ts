// Starting nsexec with its protocol socket. child_process is the public way, but
// loading it brings up net, dgram and all of streams (~3.5 ms, more than the rest
// of an exec), and every chunk then goes through a Readable. The runtime needs
// none of that: one spawn with inherited fds and one socket read raw. So Node's
// own process, pipe and stream handles (what child_process drives) are used
// directly (see node-binding.ts). Where one is missing or differs, child_process is used.
import { NsexecError } from '../errors.js';
import { nodeBinding } from '../node-binding.js';

/** What the channel gets from the socket. */
export interface NsexecSink {
  data(chunk: Buffer): void;
  /** EOF, a reset, or the runtime's close: called once. */
  end(): void;
}

export interface NsexecProcess {
  /** Sends text on the socket; a write to a dead nsexec is dropped (EOF follows). */
  write(text: string): void;
  /** Closes the runtime's end; the sink ends. */
  close(): void;
  /** SIGKILL to the process the runtime spawned. */
  kill(): void;
}

interface StdioSpec {
  type: 'fd' | 'pipe';
  fd?: number;
  handle?: StreamHandle;
}
interface ProcessHandle {
  onexit: ((exitCode: number, signalCode: string) => void) | null;
  spawn(options: { file: string; args: string[]; stdio: StdioSpec[] }): number;
  kill(signal: number): number;
  close(): void;
}
interface StreamHandle {
  onread: ((buf: ArrayBuffer | undefined) => void) | null;
  readStart(): number;
  readStop(): number;
  writeUtf8String(req: object, text: string): number;
  close(): void;
}
interface Handles {
  Process: new () => ProcessHandle;
  Pipe: new (type: number) => StreamHandle;
  SOCKET: number;
  WriteWrap: new () => { handle?: StreamHandle; oncomplete?: () => void };
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

function handles(): Handles | undefined {
  const pw = nodeBinding('process_wrap');
  const pipe = nodeBinding('pipe_wrap');
  const sw = nodeBinding('stream_wrap');
  if (!pw || !pipe || !sw) return undefined;
  const { Process } = pw;
  const { Pipe, constants } = pipe;
  const ok =
    typeof Process === 'function' &&
    typeof Process.prototype.spawn === 'function' &&
    typeof Pipe === 'function' &&
    typeof Pipe.prototype.readStart === 'function' &&
    typeof Pipe.prototype.writeUtf8String === 'function' &&
    typeof constants?.SOCKET === 'number' &&
    typeof sw.WriteWrap === 'function' &&
    sw.streamBaseState instanceof Int32Array &&
    typeof sw.kReadBytesOrError === 'number' &&
    typeof sw.kArrayBufferOffset === 'number';
  if (!ok) return undefined;
  return {
    Process,
    Pipe,
    SOCKET: constants.SOCKET,
    WriteWrap: sw.WriteWrap,
    state: sw.streamBaseState,
    kReadBytesOrError: sw.kReadBytesOrError,
    kArrayBufferOffset: sw.kArrayBufferOffset,
  };
}

/**
 * Runs `file args` with the runtime's fds `inherit` as its fds 0..n-1 and a
 * socket as fd n, whose other end feeds `sink`.
 */
export function spawnNsexec(file: string, args: string[], inherit: number[], sink: NsexecSink): NsexecProcess {
  const h = handles();
  return h ? spawnWithHandles(h, file, args, inherit, sink) : spawnWithChildProcess(file, args, inherit, sink);
}

function spawnWithHandles(h: Handles, file: string, args: string[], inherit: number[], sink: NsexecSink): NsexecProcess {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    sock.readStop();
    sock.close();
    sink.end();
  };
  const sock = new h.Pipe(h.SOCKET);
  const proc = new h.Process();
  let running = false;
  proc.onexit = () => {
    running = false;
    proc.close();
  };
  const stdio: StdioSpec[] = inherit.map((fd) => ({ type: 'fd', fd }));
  stdio.push({ type: 'pipe', handle: sock });
  // The environment and cwd are the runtime's (no env given: libuv keeps environ).
  const err = proc.spawn({ file, args: [file, ...args], stdio });
  if (err !== 0) {
    proc.close();
    // As child_process's 'error': the channel sees EOF before any event.
    queueMicrotask(end);
  } else {
    running = true;
    sock.onread = (buf) => {
      const n = h.state[h.kReadBytesOrError];
      if (n > 0 && buf) sink.data(Buffer.from(buf, h.state[h.kArrayBufferOffset], n));
      else if (n < 0) end(); // EOF or a reset
    };
    if (sock.readStart() !== 0) queueMicrotask(end);
  }
  return {
    write(text) {
      if (ended) return;
      const req = new h.WriteWrap();
      req.handle = sock;
      req.oncomplete = () => undefined;
      sock.writeUtf8String(req, text); // an error here is nsexec gone: EOF follows
    },
    close: end,
    kill() {
      if (running) proc.kill(9);
    },
  };
}

function spawnWithChildProcess(file: string, args: string[], inherit: number[], sink: NsexecSink): NsexecProcess {
  // getBuiltinModule (public since Node 20.16) loads it synchronously, only here.
  const { spawn } = (process as unknown as { getBuiltinModule(id: string): typeof import('node:child_process') }).getBuiltinModule('node:child_process');
  const child = spawn(file, args, { stdio: [...inherit, 'pipe'] });
  const sock = child.stdio[inherit.length];
  if (!sock) throw new NsexecError('spawn', `no socket to ${file}`);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    sink.end();
  };
  child.on('error', () => undefined); // surfaces as EOF without an event
  sock.on('data', (chunk: Buffer) => sink.data(chunk));
  sock.on('end', end);
  sock.on('close', end);
  // A reset from a dying nsexec is just the end of the conversation.
  sock.on('error', end);
  return {
    write(text) {
      if (!sock.destroyed) (sock as import('node:net').Socket).write(text);
    },
    close() {
      sock.destroy();
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
