// Networked busybox bundles under real OCI runtimes (runc and rocker-runtime): the
// hooks attach and detach them through the CNI plugins. Traffic goes only to
// 127.0.0.1 and to containers on the networks these tests create.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { Sandbox, snapshot, chainHash, freePort, keepIpForward, faultyCniPath, RUNTIMES } from './helpers.mjs';
import { inspectNetwork, removeNetwork } from '../../dist/imagetool/network/index.js';

const HTTPD = ['httpd', '-f', '-p', '80', '-h', '/www'];
const SLEEP = ['sleep', '600'];

/** Every test, with containers run by the runtime binary `bin`. */
function suite(runtimeName, bin) {
  let sb;
  let restoreForward;
  let baseline;

  before(async () => {
    baseline = snapshot();
    restoreForward = keepIpForward();
    sb = new Sandbox(`ctr-${runtimeName.replace(/\W+/g, '-')}`, bin);
  });

  after(async () => {
    await sb?.cleanup();
    restoreForward?.();
  });

  /** Leftovers of `net` (a network facts object) and `ids` in iptables, links, leases and state. */
  function assertNothingLeft(netName, facts, ids) {
    const now = snapshot();
    const prefix = facts.subnet.split('.').slice(0, 3).join('.') + '.';
    const mine = [prefix, facts.bridge, ...ids.map((id) => `id: "${id}"`), ...ids.map((id) => chainHash(netName, id))];
    const stray = [...now.ipt].filter((l) => !baseline.ipt.has(l) && mine.some((m) => l.includes(m)));
    assert.deepEqual(stray, [], 'iptables rules left behind');
    const veths = ids.flatMap((id) => sb.veths.get(id) ?? []);
    const links = [...now.links].filter((l) => !baseline.links.has(l) && veths.includes(l));
    assert.deepEqual(links, [], 'veths left behind');
    const ports = spawnSync('ip', ['-o', 'link', 'show', 'master', facts.bridge], { encoding: 'utf8' }).stdout;
    assert.equal(ports, '', `interfaces still on bridge ${facts.bridge}`);
    assert.deepEqual(sb.leases(netName), [], 'IP leases left behind');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${sb.dir}/state/netns/`));
    assert.deepEqual(mounts, [], 'pinned netns left behind');
    assert.deepEqual(inspectNetwork(sb.dirs, netName).containers, []);
  }

  test('--publish: busybox httpd answers at 127.0.0.1:HOSTPORT; /etc files and inspect show the address', async () => {
    const net = await sb.network('web');
    const port = await freePort();
    await sb.start('web1', HTTPD, { network: 'web', publish: [`127.0.0.1:${port}:80`], hostname: 'web1' });
    const ip = sb.ipOf('web', 'web1');
    assert.ok(ip?.startsWith(net.subnet.split('.').slice(0, 3).join('.')), `address ${ip} is in ${net.subnet}`);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'hello from a rocker container\n');
    assert.match(sb.exec('web1', 'cat', '/etc/hosts').stdout, new RegExp(`^${ip.replaceAll('.', '\\.')}\\tweb1$`, 'm'));
    assert.equal(sb.exec('web1', 'hostname').stdout.trim(), 'web1');
    assert.equal(inspectNetwork(sb.dirs, 'web').containers[0].ports[0].hostPort, port);

    await assert.rejects(removeNetwork(sb.dirs, 'web'), /network web is in use by container\(s\): web1/);
    assert.equal(sb.delete('web1').status, 0);
    assertNothingLeft('web', net, ['web1']);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) }));
  });

  test('two containers on one network reach each other by IP', async () => {
    const net = await sb.network('pair');
    await sb.start('pair-a', HTTPD, { network: 'pair' });
    await sb.start('pair-b', SLEEP, { network: 'pair' });
    const ipA = sb.ipOf('pair', 'pair-a');
    const ipB = sb.ipOf('pair', 'pair-b');
    assert.notEqual(ipA, ipB);
    // (busybox 1.35's wget crashes with -q -T together, so neither is used)
    const r = sb.exec('pair-b', 'wget', '-O', '-', `http://${ipA}:80/`);
    assert.equal(r.stdout, 'hello from a rocker container\n', r.stderr);
    for (const id of ['pair-a', 'pair-b']) assert.equal(sb.delete(id).status, 0);
    assertNothingLeft('pair', net, ['pair-a', 'pair-b']);
  });

  test('a container that exits on its own is detached when it is deleted', async () => {
    const net = await sb.network('short');
    await sb.start('short1', ['sh', '-c', 'sleep 0.2'], { network: 'short' });
    for (let i = 0; i < 100 && !sb.runtime('state', 'short1').stdout.includes('"stopped"'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(sb.delete('short1').status, 0);
    assertNothingLeft('short', net, ['short1']);
  });

  test('--network none has only lo', async () => {
    await sb.start('none1', SLEEP, { network: 'none' });
    const links = sb.exec('none1', 'ip', '-o', 'link').stdout.trim().split('\n');
    assert.equal(links.length, 1, links.join('\n'));
    assert.match(links[0], /^1: lo:/);
    assert.equal(sb.delete('none1').status, 0);
  });

  test('a host port published by another container is refused, leaving nothing behind', async () => {
    const net = await sb.network('ports');
    const port = await freePort();
    await sb.start('ports1', HTTPD, { network: 'ports', publish: [`${port}:80`] });
    const r = await sb.create('ports2', await sb.bundle('ports2', SLEEP, { network: 'ports', publish: [`127.0.0.1:${port}:8080`] }));
    assert.notEqual(r.code, 0);
    assert.match(r.output, new RegExp(`host port ${port}/tcp is already published by container ports1`));
    sb.delete('ports2');
    assert.equal(inspectNetwork(sb.dirs, 'ports').containers.length, 1);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'the first container still serves');
    assert.equal(sb.delete('ports1').status, 0);
    assertNothingLeft('ports', net, ['ports1', 'ports2']);
  });

  const faults = [
    ['missing', 'a missing plugin fails create with a clear error', /plugin \\?"firewall\\?" not found in CNI path/],
    ['crash', 'the attach hook killed half-way fails create', /error running hook/],
  ];
  for (const [fault, title, message] of faults) {
    test(`${title}; delete --force leaves no rule, veth or lease`, async () => {
      const net = await sb.network(fault);
      const cniPath = faultyCniPath(`${sb.dir}/cni-${fault}`, fault);
      const port = await freePort();
      const id = `${fault}1`;
      const r = await sb.create(id, await sb.bundle(id, SLEEP, { network: fault, publish: [`${port}:80`], cniPath }));
      assert.notEqual(r.code, 0);
      assert.match(r.output, message);
      sb.delete(id);
      assertNothingLeft(fault, net, [id]);
    });
  }

  test('20 containers created in parallel get 20 distinct addresses, all released on delete', async () => {
    const net = await sb.network('many');
    const ids = Array.from({ length: 20 }, (_, i) => `many${i}`);
    const bundles = await Promise.all(ids.map((id) => sb.bundle(id, SLEEP, { network: 'many' })));
    const results = await Promise.all(ids.map((id, i) => sb.create(id, bundles[i])));
    results.forEach((r, i) => assert.equal(r.code, 0, `${ids[i]}: ${r.output}`));
    ids.forEach((id) => sb.recordVeths(id));
    const ips = inspectNetwork(sb.dirs, 'many').containers.map((c) => c.ip);
    assert.equal(ips.length, 20);
    assert.equal(new Set(ips).size, 20, `addresses: ${ips.join(' ')}`);
    assert.equal(sb.leases('many').length, 20);
    const deletes = ids.map((id) => new Promise((resolve) => {
      const c = spawn(sb.runtimeBin, ['--root', sb.root, 'delete', '--force', id], { stdio: 'ignore' });
      c.on('close', resolve);
    }));
    assert.deepEqual(await Promise.all(deletes), ids.map(() => 0));
    assertNothingLeft('many', net, ids);
  });

  test('removing the networks removes their bridges and lease stores: ip link is back to where it was', async () => {
    for (const [name] of sb.networks) await removeNetwork(sb.dirs, name);
    const now = snapshot();
    for (const [, facts] of sb.networks) assert.ok(!now.links.has(facts.bridge), `bridge ${facts.bridge} removed`);
    // Other suites on the machine make rk- bridges of their own meanwhile: what must be
    // gone is any link still holding an address of this sandbox's networks.
    const prefixes = [...sb.networks.values()].map((f) => f.subnet.split('.').slice(0, 3).join('.') + '.');
    const addrs = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout.split('\n');
    assert.deepEqual(addrs.filter((l) => prefixes.some((p) => l.includes(` inet ${p}`))), []);
    for (const [name] of sb.networks) assert.ok(!existsSync(`${sb.dirs.stateDir}/ipam/${name}`));
    sb.networks.clear();
  });
}

// The same bundles, networking included, under every runtime.
for (const [runtimeName, bin] of Object.entries(RUNTIMES)) describe(runtimeName, () => suite(runtimeName, bin));
