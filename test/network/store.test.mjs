// Network management and the bundle pieces, without running containers:
// create/ls/inspect/rm through the rocker-image command module, the default
// network, and every kind of bad input refused with a clear error and nothing
// written.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createNetwork, listNetworks, removeNetwork, networkConfigFor, networkDirs, DEFAULT_NETWORK,
} from '../../dist/imagetool/network/index.js';
import { freeSubnet } from './helpers.mjs';

const dir = mkdtempSync('/tmp/rocker-net-store-');
const d = networkDirs(join(dir, 'conf'), join(dir, 'state'));
const used = new Set();
after(() => rmSync(dir, { recursive: true, force: true }));

const BIN = fileURLToPath(new URL('../../bin/rocker-image', import.meta.url));

/** Runs `rocker-image network ...`; returns stdout, or throws with stderr on a non-zero exit. */
async function cli(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config-dir', d.configDir, '--state-dir', d.stateDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

test('network create, ls, inspect and rm', async () => {
  const { subnet, prefix } = freeSubnet(used);
  assert.equal(await cli('network', 'create', 'front', '--subnet', subnet, '--gateway', `${prefix}254`), 'front\n');
  const conflist = JSON.parse(readFileSync(join(d.configDir, 'front.conflist'), 'utf8'));
  assert.deepEqual(conflist.plugins.map((p) => p.type), ['bridge', 'portmap', 'firewall']);
  assert.equal(conflist.plugins[0].ipam.dataDir, join(d.stateDir, 'ipam'));
  const ls = await cli('network', 'ls');
  assert.match(ls, /^NAME\s+DRIVER\s+SUBNET\s+GATEWAY\s+BRIDGE\n/);
  assert.match(ls, new RegExp(`^front\\s+bridge\\s+${subnet.replace(/\./g, '\\.')}\\s+${prefix.replace(/\./g, '\\.')}254\\s+rk-[0-9a-f]{8}$`, 'm'));
  const info = JSON.parse(await cli('network', 'inspect', 'front'));
  assert.equal(info.subnet, subnet);
  assert.deepEqual(info.containers, []);
  assert.equal(await cli('-q', 'network', 'ls'), 'front\n');
  assert.equal(await cli('network', 'rm', 'front'), 'front\n');
  assert.equal(await cli('network', 'ls', '--quiet'), '');
  await assert.rejects(cli('network', 'inspect', 'front'), /network front not found/);
  await assert.rejects(cli('network', 'rm', 'front'), /exit 1: rocker-image: network front not found/);
  await assert.rejects(cli('network', 'create'), /exit 1: rocker-image: network create: a network name is required/);
  await assert.rejects(cli('network', 'frob'), /exit 1: rocker-image: Invalid values:[\s\S]*action/);
});

test('bad input is refused with a clear error and no network is written', async () => {
  const { subnet } = freeSubnet(used);
  await createNetwork(d, { name: 'taken', subnet });
  const bad = [
    [{ name: 'other', subnet }, /subnet .* overlaps network taken/],
    [{ name: 'other', subnet: subnet.replace('0/24', '128/25') }, /overlaps network taken/],
    [{ name: 'other', subnet: '10.213.1.0' }, /invalid subnet "10.213.1.0": expected CIDR notation/],
    [{ name: 'other', subnet: '10.213.300.0/24' }, /not an IPv4 address/],
    [{ name: 'other', subnet: '10.213.1.7/24' }, /host bits are set \(did you mean 10\.213\.1\.0\/24\?\)/],
    [{ name: 'other', subnet: '10.213.1.0/31' }, /prefix length must be 8 to 30/],
    [{ name: 'other', subnet: freeSubnet(used).subnet, gateway: '10.99.0.1' }, /invalid gateway 10\.99\.0\.1: not a host address/],
    [{ name: 'other', driver: 'macvlan' }, /invalid driver "macvlan"/],
    [{ name: 'bad/name' }, /invalid network name "bad\/name"/],
    [{ name: 'host' }, /invalid network name "host"/],
    [{ name: 'taken' }, /network taken already exists/],
  ];
  for (const [opts, message] of bad) await assert.rejects(createNetwork(d, opts), message, JSON.stringify(opts));
  assert.deepEqual(listNetworks(d).map((n) => n.name), ['taken']);
  assert.deepEqual(readdirSync(d.configDir).filter((f) => f !== 'taken.conflist'), []);
  await removeNetwork(d, 'taken');
});

test('a subnet used by a host route is refused', async (t) => {
  const { subnet, prefix } = freeSubnet(used);
  const link = `rkd-${process.pid}`;
  const ip = (...args) => spawnSync('ip', args, { encoding: 'utf8' });
  t.after(() => ip('link', 'del', link));
  assert.equal(ip('link', 'add', link, 'type', 'bridge').status, 0); // a bridge: this kernel has no dummy links
  ip('addr', 'add', `${prefix}1/24`, 'dev', link);
  ip('link', 'set', link, 'up');
  await assert.rejects(createNetwork(d, { name: 'clash', subnet }), new RegExp(`overlaps a host route on ${link}`));
  assert.ok(!existsSync(join(d.configDir, 'clash.conflist')));
});

test('the default network is created on first use with a free /24', async () => {
  const bundleDir = join(dir, 'bundle-default');
  const n = await networkConfigFor({ bundleDir, configDir: d.configDir, stateDir: d.stateDir });
  assert.equal(n.annotations['org.rocker.network'], DEFAULT_NETWORK);
  const [def] = listNetworks(d);
  assert.equal(def.name, DEFAULT_NETWORK);
  assert.match(def.subnet, /^10\.210\.\d+\.0\/24$/);
  assert.deepEqual(n.namespaces, [{ type: 'network' }]);
  assert.equal(n.hostname, 'bundle-default');
  const attach = n.hooks.createRuntime[0];
  assert.ok(attach.path.endsWith('/bin/rocker-network-hook') && existsSync(attach.path));
  assert.deepEqual(attach.args.slice(0, 2), ['rocker-network-hook', 'attach']);
  assert.deepEqual(n.hooks.poststop[0].args.slice(0, 2), ['rocker-network-hook', 'detach']);
  assert.deepEqual(n.mounts.map((m) => m.destination), ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);
  assert.equal(readFileSync(join(bundleDir, 'network/hostname'), 'utf8'), 'bundle-default\n');
  await removeNetwork(d, DEFAULT_NETWORK);
});

test('--network host and none, --dns, and bad --publish/--ip/--dns values', async () => {
  const bundleDir = join(dir, 'bundle-flags');
  const host = await networkConfigFor({ bundleDir, network: 'host', configDir: d.configDir, stateDir: d.stateDir });
  assert.deepEqual(host.namespaces, []);
  assert.deepEqual(host.hooks, {});
  const none = await networkConfigFor({ bundleDir, network: 'none', dns: ['192.0.2.53'], configDir: d.configDir });
  assert.deepEqual(none.namespaces, [{ type: 'network' }]);
  assert.deepEqual(none.hooks, {});
  assert.equal(readFileSync(join(bundleDir, 'network/resolv.conf'), 'utf8'), 'nameserver 192.0.2.53\n');
  const { subnet, prefix } = freeSubnet(used);
  await createNetwork(d, { name: 'flags', subnet });
  const base = { bundleDir, network: 'flags', configDir: d.configDir, stateDir: d.stateDir };
  const bad = [
    [{ publish: ['80'] }, /invalid --publish "80": expected \[hostIP:\]hostPort:containerPort/],
    [{ publish: ['0:80'] }, /port "0" is not in 1-65535/],
    [{ publish: ['8080:70000'] }, /port "70000" is not in 1-65535/],
    [{ publish: ['8080:80/sctp'] }, /protocol "sctp" is not tcp or udp/],
    [{ publish: ['300.1.1.1:8080:80'] }, /not an IPv4 address/],
    [{ ip: `${prefix}1` }, /invalid --ip .*: not a host address/],
    [{ ip: '10.99.0.5' }, /invalid --ip/],
    [{ dns: ['dns.example'] }, /invalid --dns server "dns.example"/],
    [{ network: 'nosuch' }, /network nosuch not found/],
    [{ network: 'none', publish: ['8080:80'] }, /--publish and --ip need a bridge network/],
  ];
  for (const [opts, message] of bad) await assert.rejects(networkConfigFor({ ...base, ...opts }), message, JSON.stringify(opts));
  const ok = await networkConfigFor({ ...base, publish: ['127.0.0.1:8080:80/udp', '9090:90'], ip: `${prefix}9` });
  const args = ok.hooks.createRuntime[0].args;
  assert.deepEqual(args.slice(args.indexOf('--publish')), ['--publish', '127.0.0.1:8080:80/udp', '--publish', '9090:90', '--ip', `${prefix}9`]);
  await removeNetwork(d, 'flags');
});
