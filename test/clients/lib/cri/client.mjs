// A CRI client (runtime.v1 over gRPC on containerd's socket) for the tests and the
// benchmarks: crictl is not packaged in Debian. Every call is a promise with a deadline.
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('./api.proto', import.meta.url));
// Field names as in the .proto (pod_sandbox_id), enums by name (SANDBOX_READY).
const api = grpc.loadPackageDefinition(
  protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }),
).runtime.v1;

const DEFAULT_DEADLINE_MS = 60_000 * (Number(process.env.TEST_SLOWDOWN) || 1);

/**
 * `runtime.RunPodSandbox(request)` and so on: each method of the service as an async
 * function; a failed call rejects with an Error naming the method and gRPC's details.
 */
function promised(client, deadlineMs) {
  return new Proxy({}, {
    get: (_, method) => (request = {}) => new Promise((resolve, reject) => {
      if (typeof client[method] !== 'function') throw new Error(`CRI has no method ${String(method)}`);
      client[method](request, { deadline: Date.now() + deadlineMs }, (err, response) => {
        if (!err) resolve(response);
        else reject(Object.assign(new Error(`CRI ${method}: ${err.details || err.message}`), { code: err.code }));
      });
    }),
  });
}

/** Clients of the runtime and image services at a unix socket; close() when done. */
export function criClient(socket, { deadlineMs = DEFAULT_DEADLINE_MS } = {}) {
  const target = `unix://${socket}`;
  const runtime = new api.RuntimeService(target, grpc.credentials.createInsecure());
  const image = new api.ImageService(target, grpc.credentials.createInsecure());
  return {
    runtime: promised(runtime, deadlineMs),
    image: promised(image, deadlineMs),
    close() {
      runtime.close();
      image.close();
    },
  };
}

/** Whether a rejected call failed with NOT_FOUND. */
export const notFound = (err) => err?.code === grpc.status.NOT_FOUND;
