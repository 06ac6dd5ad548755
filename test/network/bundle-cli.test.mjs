// The whole path through the CLI: an umoci-built busybox image imported into a
// temp store, `rocker-image bundle --network --publish` and a real runtime
// running the bundle, networking included; `rocker-image network` shows it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestLayout } from '../helpers/images.mjs';
import { rockerImage, rockerImageOk, mountsUnder } from '../bundle/cli.mjs';
import { RUNTIMES, freePort, freeSubnet, keepIpForward } from './helpers.mjs';
import { spawnSync } from 'node:child_process';

const dir = mkdtempSync('/tmp/rocker-net-cli-');
const store = join(dir, 'store');
const bundle = join(dir, 'bundle');
const runtimeRoot = join(dir, 'runtime-root');
const ids = Object.keys(RUNTIMES).map((_, i) => `net-cli-${process.pid}-${i}`);
let restoreForward;
const dirs = ['--config-dir', join(dir, 'conf'), '--state-dir', join(dir, 'state')];
process.env.ROCKER_NETWORK_CONFIG_DIR = join(dir, 'conf');
process.env.ROCKER_NETWORK_STATE_DIR = join(dir, 'state');

const runtime = (bin, ...args) => spawnSync(bin, ['--root', runtimeRoot, ...args], { encoding: 'utf8', timeout: 30_000 });

before(async () => {
  restoreForward = keepIpForward();
  const layout = await buildTestLayout(dir);
  await rockerImageOk(store, 'import', `oci:${layout.dir}:amd64`, 'nettest:latest');
});

after(async () => {
  Object.values(RUNTIMES).forEach((bin, i) => runtime(bin, 'delete', '--force', ids[i]));
  await rockerImage(store, 'unbundle', bundle);
  await rockerImage(store, 'network', 'rm', 'clinet', ...dirs);
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
  restoreForward();
});

test('rocker-image bundle --network --publish: the same bundle runs networked under every runtime', async () => {
  const { subnet } = freeSubnet();
  await rockerImageOk(store, 'network', 'create', 'clinet', '--subnet', subnet, ...dirs);
  const port = await freePort();
  const port2 = await freePort();
  // -p right before the image, as with docker run: it takes one value, not the positionals after it.
  await rockerImageOk(store, 'bundle', '--network', 'clinet', '--hostname', 'clibox', '-p', `${port2}:80`, '-p', `127.0.0.1:${port}:80`,
    'nettest:latest', bundle, '--', '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
  for (const [i, bin] of Object.values(RUNTIMES).entries()) {
    const id = ids[i];
    // The container inherits the runtime's stdio: a file, so nothing waits for it to close.
    const log = join(dir, `run-${i}.log`);
    const fd = openSync(log, 'w');
    const run = spawnSync(bin, ['--root', runtimeRoot, 'run', '-d', '--bundle', bundle, id], { stdio: ['ignore', fd, fd], timeout: 30_000 });
    closeSync(fd);
    assert.equal(run.status, 0, `${bin}: ${readFileSync(log, 'utf8')}`);
    for (const p of [port, port2]) assert.equal(await (await fetch(`http://127.0.0.1:${p}/hello.txt`)).text(), 'hello from rocker tests\n');
    const info = JSON.parse((await rockerImageOk(store, 'network', 'inspect', 'clinet', ...dirs)).stdout);
    assert.deepEqual(info.containers.map((c) => c.id), [id]);
    const ip = info.containers[0].ip.split('/')[0];
    assert.match(await (await fetch(`http://127.0.0.1:${port}/hosts`)).text(), new RegExp(`^${ip.replaceAll('.', '\\.')}\\tclibox$`, 'm'));
    const busy = await rockerImage(store, 'network', 'rm', 'clinet', ...dirs);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`rocker-image: network clinet is in use by container\\(s\\): ${id}`));
    assert.equal(runtime(bin, 'delete', '--force', id).status, 0);
    assert.deepEqual(JSON.parse((await rockerImageOk(store, 'network', 'inspect', 'clinet', ...dirs)).stdout).containers, []);
  }
  assert.equal((await rockerImageOk(store, 'network', 'rm', 'clinet', ...dirs)).stdout, 'clinet\n');
});
