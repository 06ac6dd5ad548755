// The protobuf messages the shim speaks (containerd's task service, events, cgroup
// metrics, ttrpc's envelope), from the descriptor `make` generates out of the
// vendored .proto files (tools/proto-descriptors.mjs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/light.js';

const DESCRIPTOR = fileURLToPath(new URL('../schemas/containerd-proto.json', import.meta.url));

let root: protobuf.Root | undefined;

function lookup(name: string): protobuf.Type {
  root ??= protobuf.Root.fromJSON(JSON.parse(readFileSync(DESCRIPTOR, 'utf8')) as protobuf.INamespace);
  return root.lookupType(name);
}

export type Msg = Record<string, unknown>;

export function encode(type: string, value: Msg): Uint8Array {
  const t = lookup(type);
  return t.encode(t.fromObject(value)).finish();
}

export function decode(type: string, bytes: Uint8Array): Msg {
  const t = lookup(type);
  return t.toObject(t.decode(bytes), { longs: Number, defaults: true }) as Msg;
}

/** The request and response message names of a service's method. */
export function methodTypes(service: string, method: string): { request: string; response: string } | undefined {
  lookup('ttrpc.Request');
  const svc = root!.lookup(service);
  const m = svc instanceof protobuf.Service ? svc.methods[method] : undefined;
  if (!m) return undefined;
  m.resolve();
  return { request: m.resolvedRequestType!.fullName.slice(1), response: m.resolvedResponseType!.fullName.slice(1) };
}

/** google.protobuf.Any of a message, with the type URL containerd's typeurl gives it (the message's name). */
export function any(type: string, value: Msg): Msg {
  return { type_url: type, value: encode(type, value) };
}

export function timestamp(d: Date): Msg {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}
