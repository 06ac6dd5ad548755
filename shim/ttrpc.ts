// ttrpc, containerd's small RPC protocol over a unix socket: frames of a 10-byte
// header (length and stream id, big-endian uint32; type; flags) and a protobuf
// body. A request (type 1) carries ttrpc.Request {service, method, payload}; its
// response (type 2, same stream id) ttrpc.Response {status, payload}. Unary calls
// only, which is all containerd's task and events services use.
import { createConnection, type Socket } from 'node:net';
import { decode, encode, methodTypes, type Msg } from './proto.js';

const HEADER = 10;
const MAX_MESSAGE = 4 << 20;
export const REQUEST = 1;
export const RESPONSE = 2;

/** gRPC status codes, as containerd's errdefs reads them. */
export const Code = { Unknown: 2, InvalidArgument: 3, NotFound: 5, AlreadyExists: 6, FailedPrecondition: 9, Unimplemented: 12, Internal: 13 } as const;

export class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export function frame(stream: number, type: number, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(HEADER + body.length);
  b.writeUInt32BE(body.length, 0);
  b.writeUInt32BE(stream, 4);
  b.writeUInt8(type, 8);
  b.writeUInt8(0, 9);
  b.set(body, HEADER);
  return b;
}

/** Calls `onFrame` for each complete frame read from `sock`; a frame over the limit ends the connection. */
function readFrames(sock: Socket, onFrame: (stream: number, type: number, body: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= HEADER) {
      const len = buf.readUInt32BE(0);
      if (len > MAX_MESSAGE) {
        sock.destroy();
        return;
      }
      if (buf.length < HEADER + len) break;
      onFrame(buf.readUInt32BE(4), buf.readUInt8(8), buf.subarray(HEADER, HEADER + len));
      buf = buf.subarray(HEADER + len);
    }
  });
}

/** A method: the decoded request in, the response message out (or an RpcError thrown, or a Parked). */
export type Handler = (req: Msg) => Promise<Msg>;

/**
 * Thrown by a method whose answer comes later (a Wait for a running process): the
 * transport hands the request to whoever holds it (the holder, shim/holder-channel.ts)
 * until a response under the same key is released.
 */
export class Parked {
  constructor(readonly key: string) {}
}

/** The ttrpc.Response to a request's body, or where it was parked. */
export async function answer(service: string, handlers: Record<string, Handler>, body: Uint8Array): Promise<Msg | Parked> {
  try {
    const req = decode('ttrpc.Request', body);
    const handler = req.service === service ? handlers[req.method as string] : undefined;
    const types = handler && methodTypes(service, req.method as string);
    if (!handler || !types) throw new RpcError(Code.Unimplemented, `${req.service}/${req.method} is not implemented by containerd-shim-rocker-v2`);
    const out = await handler(decode(types.request, req.payload as Uint8Array));
    return { payload: encode(types.response, out) };
  } catch (e) {
    if (e instanceof Parked) return e;
    const err = e instanceof RpcError ? e : new RpcError(Code.Unknown, e instanceof Error ? e.message : String(e));
    return { status: { code: err.code, message: err.message } };
  }
}

/** A client for unary calls on one connection (the shim's events to containerd). */
export class Client {
  private nextStream = 1;
  private readonly pending = new Map<number, { resolve: (m: Msg) => void; reject: (e: Error) => void }>();
  private readonly sock: Socket;

  constructor(path: string) {
    this.sock = createConnection(path);
    const fail = (e: Error) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.sock.on('error', fail);
    this.sock.on('close', () => fail(new Error('ttrpc connection closed')));
    readFrames(this.sock, (stream, type, body) => {
      const p = this.pending.get(stream);
      if (type !== RESPONSE || !p) return;
      this.pending.delete(stream);
      const res = decode('ttrpc.Response', body);
      const status = res.status as { code?: number; message?: string } | undefined;
      if (status?.code) p.reject(new RpcError(status.code, status.message ?? ''));
      else p.resolve(res);
    });
  }

  get closed(): boolean {
    return this.sock.destroyed;
  }

  call(service: string, method: string, request: Msg): Promise<Msg> {
    const types = methodTypes(service, method);
    if (!types) return Promise.reject(new Error(`unknown method ${service}/${method}`));
    // Client-initiated streams have odd ids.
    const stream = this.nextStream;
    this.nextStream += 2;
    const body = encode('ttrpc.Request', { service, method, payload: encode(types.request, request) });
    return new Promise((resolve, reject) => {
      this.pending.set(stream, { resolve: (res) => resolve(decode(types.response, res.payload as Uint8Array)), reject });
      this.sock.write(frame(stream, REQUEST, body));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}
