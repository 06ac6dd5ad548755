// The hook program on its own (no OCI runtime): what a runtime feeds it on
// stdin, a detach that finishes an attach killed half-way, idempotent detach,
// and a requested address that is taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sandbox, snapshot, chainHash, freePort, faultyCniPath, keepIpForward } from './helpers.mjs';

const HOOK = fileURLToPath(new URL('../../bin/rocker-network-hook', import.meta.url));
let sb;
let restoreForward;
const sleepers = [];

before(() => {
  restoreForward = keepIpForward();
  sb = new Sandbox('hook');
});
after(async () => {
  for (const p of sleepers) p.kill('SIGKILL');
  await sb.cleanup();
  restoreForward();
});

/** A process in a fresh network namespace, standing in for a container's init. */
function netnsProcess() {
  const p = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
  sleepers.push(p);
  return p.pid;
}

function hook(verb, state, ...args) {
  return spawnSync(HOOK, [verb, '--config-dir', sb.dirs.configDir, '--state-dir', sb.dirs.stateDir, ...args], {
    input: typeof state === 'string' ? state : JSON.stringify({ ociVersion: '1.0.2', status: 'creating', bundle: sb.dir, ...state }),
    encoding: 'utf8',
    env: {}, // runtimes may run hooks with an empty environment
  });
}

const leftovers = (net, id) =>
  [...snapshot().ipt].filter((l) => l.includes(chainHash(net.name, id)) || l.includes(`id: "${id}"`)).length;

test('detach finishes the job of an attach hook that was killed half-way, and is idempotent', async () => {
  const net = await sb.network('hk');
  const cni = faultyCniPath(`${sb.dir}/cni-crash`, 'crash');
  const port = await freePort();
  const pid = netnsProcess();
  const a = hook('attach', { id: 'hk1', pid }, '--network', 'hk', '--publish', `${port}:80`, '--cni-path', cni);
  assert.equal(a.signal, 'SIGKILL');
  assert.equal(sb.leases('hk').length, 1, 'the killed attach holds a lease');
  assert.ok(leftovers(net, 'hk1') > 0, 'and iptables rules');
  assert.ok(existsSync(`${sb.dirs.stateDir}/ports/tcp-${port}`));

  const d = hook('detach', { id: 'hk1', status: 'stopped' }, '--cni-path', cni);
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual(sb.leases('hk'), []);
  assert.equal(leftovers(net, 'hk1'), 0);
  assert.ok(!existsSync(`${sb.dirs.stateDir}/ports/tcp-${port}`));
  assert.equal(spawnSync('ip', ['-o', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }).stdout, '');

  const again = hook('detach', { id: 'hk1', status: 'stopped' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(hook('detach', { id: 'never-attached', status: 'stopped' }).status, 0);
});

test('--ip gives the address asked for; a taken one is refused without leftovers', async () => {
  const net = await sb.network('fixed');
  const want = net.subnet.replace('0/24', '77');
  const first = hook('attach', { id: 'fx1', pid: netnsProcess() }, '--network', 'fixed', '--ip', want);
  assert.equal(first.status, 0, first.stderr);
  const second = hook('attach', { id: 'fx2', pid: netnsProcess() }, '--network', 'fixed', '--ip', want);
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`rocker-network-hook: CNI plugin bridge \\(ADD\\): .*${want.replaceAll('.', '\\.')}`));
  assert.deepEqual(sb.leases('fixed'), [want]);
  assert.equal(leftovers(net, 'fx2'), 0);
  assert.equal(hook('detach', { id: 'fx1' }).status, 0);
  assert.deepEqual(sb.leases('fixed'), []);
});

test('bad hook input: not JSON, a path-like id, no pid', async () => {
  await sb.network('badin');
  const notJson = hook('attach', 'nope', '--network', 'badin');
  assert.equal(notJson.status, 1);
  assert.match(notJson.stderr, /^rocker-network-hook: reading the container state from stdin: /);
  const evilId = hook('detach', { id: '../../etc' });
  assert.equal(evilId.status, 1);
  assert.match(evilId.stderr, /invalid container id "..\/..\/etc"/);
  const noPid = hook('attach', { id: 'nopid' }, '--network', 'badin');
  assert.equal(noPid.status, 1);
  assert.match(noPid.stderr, /invalid container pid/);
  assert.deepEqual(sb.leases('badin'), []);
  assert.equal(hook('frobnicate', { id: 'x' }).status, 1);
});

test('a port reservation left by a container that has no attachment any more is taken over', async () => {
  await sb.network('stale');
  const port = await freePort();
  mkdirSync(`${sb.dirs.stateDir}/ports`, { recursive: true });
  writeFileSync(`${sb.dirs.stateDir}/ports/tcp-${port}`, 'ghost');
  const a = hook('attach', { id: 'st1', pid: netnsProcess() }, '--network', 'stale', '--publish', `${port}:80`);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(readFileSync(`${sb.dirs.stateDir}/ports/tcp-${port}`, 'utf8'), 'st1');
  assert.equal(hook('detach', { id: 'st1' }).status, 0);
  assert.ok(!existsSync(`${sb.dirs.stateDir}/ports/tcp-${port}`));
});
