// Test fixture: an HTTP proxy on 127.0.0.1 in front of a registry that injects
// faults into matching requests, and logs every request it sees.
//
//   const proxy = await startFaultProxy(registry.port)
//   proxy.inject({ match: /\/blobs\//, fault: 'cut', times: 1 })
//   faults: 'status' (with status, headers, body), 'cut' (send half the body,
//   then drop the connection), 'stall' (send half the body, then nothing),
//   'corrupt' (flip one byte in the body), 'ignore-range' (forward without the
//   Range header, as a registry without Range support answers)
import http from 'node:http';

export async function startFaultProxy(upstreamPort) {
  const faults = [];
  const log = [];
  const server = http.createServer((req, res) => {
    log.push({ method: req.method, url: req.url, range: req.headers.range });
    const fault = faults.find((f) => f.times > 0 && f.match.test(req.url) && (!f.method || f.method === req.method));
    if (fault) fault.times--;
    if (fault?.fault === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: 'INJECTED', message: `injected ${fault.status}` }] }));
      return;
    }
    const headers = { ...req.headers };
    if (fault?.fault === 'ignore-range') delete headers.range;
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers }, (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      const total = Number(ures.headers['content-length'] ?? 0);
      let sent = 0;
      let flipped = false;
      ures.on('data', (chunk) => {
        if ((fault?.fault === 'cut' || fault?.fault === 'stall') && sent + chunk.length >= total / 2) {
          res.write(chunk.subarray(0, Math.max(0, Math.floor(total / 2) - sent)));
          ures.destroy();
          fault.onStall?.();
          if (fault.fault === 'stall') return;
          // Let the half body reach the client, then drop the connection.
          res.socket?.end(() => res.socket?.destroy());
          return;
        }
        if (fault?.fault === 'corrupt' && !flipped) {
          chunk = Buffer.from(chunk);
          chunk[0] ^= 0xff;
          flipped = true;
        }
        sent += chunk.length;
        res.write(chunk);
      });
      ures.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  // Port 0: the kernel's pick is ours at once (a probed free port could be taken before the listen).
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    host: `127.0.0.1:${port}`,
    port,
    log,
    /** match: RegExp on the request path; times: how many requests it hits. */
    inject(fault) {
      faults.push({ times: 1, ...fault });
    },
    clear() {
      faults.length = 0;
      log.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}
