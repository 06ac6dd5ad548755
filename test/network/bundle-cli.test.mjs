// The whole path through the CLI: an umoci-built busybox image imported into a
// temp store, `rocker-image bundle --network --publish` and a real runtime
// running the bundle, networking included; `rocker-image network` shows it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestLayout } from '../helpers/images.mjs';
import { rockerImage, rockerImageOk, mountsUnder } from '../bundle/cli.mjs';
import { RUNTIME, freePort, freeSubnet, keepIpForward } from './helpers.mjs';
import { spawnSync } from 'node:child_process';

const dir = mkdtempSync('/tmp/rocker-net-cli-');
const store = join(dir, 'store');
const bundle = join(dir, 'bundle');
const runtimeRoot = join(dir, 'runtime-root');
const id = `net-cli-${process.pid}`;
let restoreForward;
const dirs = ['--config-dir', join(dir, 'conf'), '--state-dir', join(dir, 'state')];
process.env.ROCKER_NETWORK_CONFIG_DIR = join(dir, 'conf');
process.env.ROCKER_NETWORK_STATE_DIR = join(dir, 'state');

const runtime = (...args) => spawnSync(RUNTIME, ['--root', runtimeRoot, ...args], { encoding: 'utf8', timeout: 30_000 });

before(async () => {
  restoreForward = keepIpForward();
  const layout = await buildTestLayout(dir);
  await rockerImageOk(store, 'import', `oci:${layout.dir}:amd64`, 'nettest:latest');
});

after(async () => {
  runtime('delete', '--force', id);
  await rockerImage(store, 'unbundle', bundle);
  await rockerImage(store, 'network', 'rm', 'clinet', ...dirs);
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
  restoreForward();
});

test('rocker-image bundle --network --publish: the bundle runs networked under the runtime', async () => {
  const { subnet } = freeSubnet();
  await rockerImageOk(store, 'network', 'create', 'clinet', '--subnet', subnet, ...dirs);
  const port = await freePort();
  const port2 = await freePort();
  // -p right before the image, as with docker run: it takes one value, not the positionals after it.
  await rockerImageOk(store, 'bundle', '--network', 'clinet', '--hostname', 'clibox', '-p', `${port2}:80`, '-p', `127.0.0.1:${port}:80`,
    'nettest:latest', bundle, '--', '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  // The container inherits the runtime's stdio: a file, so nothing waits for it to close.
  const log = join(dir, 'run.log');
  const fd = openSync(log, 'w');
  const run = spawnSync(RUNTIME, ['--root', runtimeRoot, 'run', '-d', '--bundle', bundle, id], { stdio: ['ignore', fd, fd], timeout: 30_000 });
  closeSync(fd);
  assert.equal(run.status, 0, readFileSync(log, 'utf8'));
  for (const p of [port, port2]) assert.equal(await (await fetch(`http://127.0.0.1:${p}/hello.txt`)).text(), 'hello from rocker tests\n');
  const info = JSON.parse((await rockerImageOk(store, 'network', 'inspect', 'clinet', ...dirs)).stdout);
  assert.equal(info.containers.length, 1);
  assert.equal(info.containers[0].id, id);
  const ip = info.containers[0].ip.split('/')[0];
  assert.match((await (await fetch(`http://127.0.0.1:${port}/hosts`)).text()), new RegExp(`^${ip.replaceAll('.', '\\.')}\\tclibox$`, 'm'));
  const busy = await rockerImage(store, 'network', 'rm', 'clinet', ...dirs);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`rocker-image: network clinet is in use by container\\(s\\): ${id}`));
  assert.equal(runtime('delete', '--force', id).status, 0);
  assert.deepEqual(JSON.parse((await rockerImageOk(store, 'network', 'inspect', 'clinet', ...dirs)).stdout).containers, []);
  assert.equal((await rockerImageOk(store, 'network', 'rm', 'clinet', ...dirs)).stdout, 'clinet\n');
});
