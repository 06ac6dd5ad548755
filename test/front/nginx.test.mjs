// The origin project's headline through `rocker`: nginx (Debian's, the shared
// fixture of test/helpers/nginx-image.mjs) run detached with a name and a
// published port serves its welcome page, `logs` has its access log line,
// `stop` uses the image's StopSignal (SIGQUIT, nginx's graceful stop) and `rm`
// leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushImage } from '../helpers/images.mjs';
import { buildNginxLayout } from '../helpers/nginx-image.mjs';
import { freePort, freeSubnet, keepIpForward } from '../network/helpers.mjs';
import { uniqueName, suiteFront } from './helpers.mjs';

const f = suiteFront();

/** Polls `get` until it gives a value (the machine is shared and slow). */
async function until(what, get, ms = 60000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
    const v = await get();
    if (v !== undefined) return v;
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('run -d --name -p nginx: the welcome page, its access log in logs, stop with SIGQUIT, rm leaves nothing', { timeout: 900000 }, async () => {
  // The first build of the fixture (debootstrap) takes minutes; later ones use its cache.
  await pushImage(await buildNginxLayout(f.dir), 'nginx', f.registryHost, 'library/nginx:latest');
  const nginx = `${f.registryHost}/library/nginx:latest`;
  const restoreForward = keepIpForward();
  const net = uniqueName('nginx-net');
  await f.ok('network', 'create', '--subnet', freeSubnet().subnet, net);
  try {
    const name = uniqueName('nginx');
    const port = await freePort();
    const id = (await f.ok('run', '-d', '--name', name, '--network', net, '-p', `127.0.0.1:${port}:80`, nginx)).trim();
    const info = JSON.parse(await f.ok('inspect', name))[0];
    try {
      const page = await until('the welcome page', () => fetch(`http://127.0.0.1:${port}/`).then(async (r) => ({ status: r.status, body: await r.text() }), () => undefined));
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>Welcome to nginx!<\/title>/);
      // The image links nginx's access.log to /dev/stdout: the monitor logs it.
      const access = await until('the access log line', async () => (await f.ok('logs', name)).split('\n').find((l) => l.includes('"GET / HTTP/1.1" 200')));
      assert.match(access, /^\S+ - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 \d+ /);
      const ps = (await f.ok('ps', '--format', 'json')).split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.Id === id);
      assert.equal(ps?.Ports, `127.0.0.1:${port}->80/tcp`);

      // SIGQUIT, the image's StopSignal (not the SIGKILL after the grace period): nginx ends gracefully, status 0.
      assert.equal(info.state.state, 'running');
      assert.equal(JSON.parse(readFileSync(join(info.paths.bundle, 'config.json'), 'utf8')).annotations['org.opencontainers.image.stopSignal'], 'SIGQUIT');
      await f.ok('stop', '-t', '120', name);
      assert.equal((await f.ok('wait', name)).trim(), '0');
      assert.match((await f.ok('ps', '-a', '--format', 'json')).split('\n').find((l) => l.includes(id)), /"Status":"Exited \(0\) /);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/`), undefined, 'the port still answers');
      await f.ok('rm', name);
      await f.assertGone(id, info);
    } finally {
      await f.rocker('rm', '-f', id);
    }
  } finally {
    await f.rocker('network', 'rm', net);
    restoreForward();
  }
});
