// The worker's end of its channel to rocker-shim-holder (shim/holder/, docs/shim.md
// "The holder's channel"): the holder owns containerd's connections and relays each
// ttrpc frame here; answers go back the same way. A request whose answer comes later
// (a Wait) is parked in the holder, so it outlives this process, and released by key.
import { Socket } from 'node:net';
import { answer, frame, Parked, REQUEST, RESPONSE, type Handler } from './ttrpc.js';
import { encode, type Msg } from './proto.js';

const HEADER = 9;
const FRAME_HEADER = 10;

export class HolderChannel {
  private readonly sock: Socket;
  private buf: Buffer = Buffer.alloc(0);
  /** Requests being answered. */
  inflight = 0;
  /** When the last request arrived or was answered. */
  lastActivity = Date.now();

  constructor(
    fd: number,
    private readonly service: string,
    private readonly handlers: Record<string, Handler>,
    /** The holder closed the channel: it has ended this worker. */
    onEnd: () => void,
  ) {
    this.sock = new Socket({ fd, readable: true, writable: true });
    this.sock.on('data', (chunk: Buffer) => this.onData(chunk));
    this.sock.on('error', () => this.sock.destroy());
    this.sock.once('close', onEnd);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= HEADER) {
      const len = this.buf.readUInt32BE(5);
      if (this.buf.length < HEADER + len) break;
      const type = String.fromCharCode(this.buf[0]);
      const conn = this.buf.readUInt32BE(1);
      const body = this.buf.subarray(HEADER, HEADER + len);
      this.buf = this.buf.subarray(HEADER + len);
      // 'C' (a connection closed) needs nothing: the holder drops its parks itself.
      if (type === 'F' && body.length >= FRAME_HEADER && body[8] === REQUEST) void this.request(conn, body.readUInt32BE(4), body.subarray(FRAME_HEADER));
    }
  }

  private async request(conn: number, stream: number, body: Buffer): Promise<void> {
    this.inflight++;
    this.lastActivity = Date.now();
    const res = await answer(this.service, this.handlers, body);
    this.inflight--;
    this.lastActivity = Date.now();
    if (res instanceof Parked) {
      const key = Buffer.from(res.key);
      const b = Buffer.allocUnsafe(4 + key.length);
      b.writeUInt32BE(stream, 0);
      key.copy(b, 4);
      this.send('P', conn, b);
    } else {
      this.send('F', conn, frame(stream, RESPONSE, encode('ttrpc.Response', res)));
    }
  }

  private send(type: string, a: number, body: Uint8Array = Buffer.alloc(0)): void {
    if (this.sock.destroyed) return;
    const h = Buffer.allocUnsafe(HEADER);
    h.writeUInt8(type.charCodeAt(0), 0);
    h.writeUInt32BE(a, 1);
    h.writeUInt32BE(body.length, 5);
    this.sock.write(Buffer.concat([h, body]));
  }

  /** Answers every Wait parked under `key` with `response` (a ttrpc.Response). */
  release(key: string, response: Msg): void {
    const k = Buffer.from(key);
    const payload = encode('ttrpc.Response', response);
    const b = Buffer.allocUnsafe(2 + k.length + payload.length);
    b.writeUInt16BE(k.length, 0);
    k.copy(b, 2);
    b.set(payload, 2 + k.length);
    this.send('R', 0, b);
  }

  /** The holder reaps `pid`, a container init, and records its exit in `exitFile`. */
  watch(pid: number, exitFile: string): void {
    this.send('W', pid, Buffer.from(exitFile));
  }

  /** Nothing in flight here: the holder may end this worker. */
  idle(): void {
    this.send('I', 0);
  }

  /** No container left: the holder may exit, once containerd has been quiet. */
  quit(): void {
    this.send('Q', 0);
  }
}
