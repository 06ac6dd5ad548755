// The headline on a real image: nginx built from Debian's packages, pushed to
// a loopback registry that stands in for Docker Hub through a registries.json
// mirror, then `rocker-image pull nginx`, `rocker-image bundle -p`, and
// `rocker-runtime run -d` serving nginx's welcome page; stopped with the
// image's StopSignal, leaving nothing behind. The same bundle serves under runc.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry, freePort } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { buildNginxLayout } from '../helpers/nginx-image.mjs';
import { freeSubnet, keepIpForward } from '../network/helpers.mjs';
import { mountsUnder, rockerImage, rockerImageOk } from './cli.mjs';
import { hierarchyMounts } from '../cgroups/layout.mjs';

const ROCKER = fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url));
const RUNTIMES = { 'rocker-runtime': ROCKER, runc: 'runc' };

const dir = mkdtempSync('/tmp/rocker-nginx-');
const store = join(dir, 'store');
const bundle = join(dir, 'bundle');
const runtimeRoot = join(dir, 'runtime-root');
const netDirs = ['--config-dir', join(dir, 'conf'), '--state-dir', join(dir, 'state')];
process.env.ROCKER_NETWORK_CONFIG_DIR = join(dir, 'conf');
process.env.ROCKER_NETWORK_STATE_DIR = join(dir, 'state');
const ids = Object.keys(RUNTIMES).map((name) => `nginx-${name}-${process.pid}`);
let registry;
let restoreForward;
let bridge;

const runtime = (bin, ...args) => spawnSync(bin, ['--root', runtimeRoot, ...args], { encoding: 'utf8', timeout: 30_000 });

before(async () => {
  restoreForward = keepIpForward();
  registry = await startRegistry();
  await pushImage(await buildNginxLayout(dir), 'nginx', registry.host, 'library/nginx:latest');
  mkdirSync(store, { recursive: true });
  // The loopback registry plays Docker Hub: plain HTTP is allowed for loopback mirrors.
  writeFileSync(join(store, 'registries.json'), JSON.stringify({ mirrors: { 'docker.io': [`http://${registry.host}`] } }));
  // The default network "rocker" in this test's own dirs, on a /24 no other suite uses.
  await rockerImageOk(store, 'network', 'create', 'rocker', '--subnet', freeSubnet().subnet, ...netDirs);
  bridge = JSON.parse((await rockerImageOk(store, 'network', 'inspect', 'rocker', ...netDirs)).stdout).bridge;
});

after(async () => {
  for (const [i, bin] of Object.values(RUNTIMES).entries()) runtime(bin, 'delete', '--force', ids[i]);
  await rockerImage(store, 'unbundle', '--force', bundle);
  await rockerImage(store, 'network', 'rm', 'rocker', ...netDirs);
  // Gone with the network; removed here too in case `network rm` could not run.
  if (bridge) spawnSync('ip', ['link', 'del', bridge]);
  await registry?.stop();
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
  restoreForward?.();
});

/** The page at `url`, retried while nginx starts (connection refused until it listens). */
async function fetchPage(url) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(url);
      return { status: res.status, body: await res.text() };
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Cgroup directories named `id` (where rocker-runtime and runc put a container without cgroupsPath). */
function cgroupsNamed(id) {
  return hierarchyMounts().flatMap((m) => [join(m, id), join(m, 'rocker', id)]).filter((d) => existsSync(d));
}

async function waitStopped(bin, id) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const st = runtime(bin, 'state', id);
    if (st.status === 0 && JSON.parse(st.stdout).status === 'stopped') return;
    if (Date.now() > deadline) throw new Error(`${id} still ${st.stdout} after its StopSignal`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('pull nginx through a mirror, bundle with the defaults, run -d: the welcome page; StopSignal stops it', { timeout: 900_000 }, async () => {
  const pull = await rockerImageOk(store, 'pull', 'nginx');
  assert.match(pull.stdout, /docker\.io\/library\/nginx:latest\n$/);

  const port = await freePort();
  const b = await rockerImageOk(store, 'bundle', '-p', `127.0.0.1:${port}:80`, 'nginx', bundle);
  assert.equal(b.stdout, `${bundle}\n`, 'bundle prints the bundle path');
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  const stopSignal = config.annotations['org.opencontainers.image.stopSignal'];
  assert.equal(stopSignal, 'SIGQUIT');

  for (const [i, [name, bin]] of Object.entries(RUNTIMES).entries()) {
    const id = ids[i];
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'w');
    const run = spawnSync(bin, ['--root', runtimeRoot, 'run', '-d', '--bundle', bundle, id], { stdio: ['ignore', fd, fd], timeout: 60_000 });
    closeSync(fd);
    assert.equal(run.status, 0, `${name} run -d: ${readFileSync(log, 'utf8')}`);
    const page = await fetchPage(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200, `${name}: ${readFileSync(log, 'utf8')}`);
    assert.match(page.body, /<title>Welcome to nginx!<\/title>/, name);
    // The running container's overlay is busy: unbundle refuses to pull it from under it.
    const busy = await rockerImage(store, 'unbundle', bundle);
    assert.equal(busy.code, 1, name);
    assert.match(busy.stderr, /the bundle is in use by a live container: .*pid [0-9]+.*--force/, name);
    assert.equal((await fetchPage(`http://127.0.0.1:${port}/`)).status, 200, `${name}: still serving after the refused unbundle`);

    assert.notDeepEqual(cgroupsNamed(id), [], `${name}: the container's cgroups are where the check looks`);
    const kill = runtime(bin, 'kill', id, stopSignal);
    assert.equal(kill.status, 0, `${name} kill ${stopSignal}: ${kill.stderr}`);
    // SIGQUIT is nginx's graceful shutdown: PID 1 (nginx itself, exec'd by the entrypoint) handles it and exits.
    await waitStopped(bin, id);
    assert.match(readFileSync(log, 'utf8'), /"GET \/ HTTP\/1\.1" 200/, `${name}: the access log goes to stdout`);
    assert.equal(runtime(bin, 'delete', id).status, 0);
    assert.equal(existsSync(join(runtimeRoot, id)), false, `${name}: state left behind`);
    assert.deepEqual(cgroupsNamed(id), [], `${name}: cgroups left behind`);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), undefined, `${name}: the port still answers`);
    const net = JSON.parse((await rockerImageOk(store, 'network', 'inspect', 'rocker', ...netDirs)).stdout);
    assert.deepEqual(net.containers, [], `${name}: still attached`);
  }

  await rockerImageOk(store, 'unbundle', bundle);
  assert.equal(existsSync(bundle), false);
  assert.deepEqual(mountsUnder(dir), []);
});
