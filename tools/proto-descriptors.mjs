// Build step: the vendored containerd and ttrpc .proto files (schemas/containerd/,
// unmodified) parsed by protobufjs into one JSON descriptor the shim loads with
// protobufjs/light (no .proto parsing at run time).
//   node tools/proto-descriptors.mjs OUT
import protobuf from 'protobufjs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';

const BASE = 'schemas/containerd';
const FILES = [
  'github.com/containerd/containerd/runtime/v2/task/shim.proto',
  'github.com/containerd/containerd/runtime/v2/runc/options/oci.proto',
  'github.com/containerd/containerd/api/events/task.proto',
  'github.com/containerd/containerd/api/services/ttrpc/events/v1/events.proto',
  'github.com/containerd/cgroups/stats/v1/metrics.proto',
  'github.com/containerd/cgroups/v2/stats/metrics.proto',
  'github.com/containerd/ttrpc/request.proto',
];
// gogo.proto extends descriptor.proto, which protobufjs ships; its other google/protobuf
// imports (any, empty, timestamp) are protobufjs's built-in common types.
const DESCRIPTOR = join(dirname(createRequire(import.meta.url).resolve('protobufjs')), 'google/protobuf/descriptor.proto');

const out = process.argv[2];
if (!out) throw new Error('usage: proto-descriptors.mjs OUT');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => {
  if (target === 'google/protobuf/descriptor.proto') return DESCRIPTOR;
  if (target.startsWith('google/protobuf/') || target.startsWith(BASE)) return target;
  return join(BASE, target);
};
await root.load(FILES.map((f) => join(BASE, f)));
root.resolveAll();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(root.toJSON()));
