// Shared set-up for the network suites: a sandbox (temp config/state dirs and
// runtime root), busybox bundles carrying the network hooks, an OCI runtime
// binary to run them (runc unless ROCKER_TEST_RUNTIME names another), host
// snapshots to compare, and a clean-up that removes everything even after a
// failed test.
import { mkdtempSync, mkdirSync, copyFileSync, symlinkSync, writeFileSync, readFileSync, readdirSync, rmSync, openSync, closeSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyNetwork, createNetwork, removeNetwork, inspectNetwork, detach, networkDirs,
} from '../../dist/imagetool/network/index.js';

/** The OCI runtimes every networked bundle is run under (ROCKER_TEST_RUNTIME picks one binary). */
export const RUNTIMES = process.env.ROCKER_TEST_RUNTIME
  ? { [process.env.ROCKER_TEST_RUNTIME]: process.env.ROCKER_TEST_RUNTIME }
  : { runc: 'runc', 'rocker-runtime': fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url)) };

/** A /24 in 10.213.0.0/16 that no host route uses (other suites may run at the same time). */
export function freeSubnet(used = new Set()) {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout;
  for (;;) {
    const x = randomInt(0, 256);
    const prefix = `10.213.${x}.`;
    if (!routes.includes(prefix) && !used.has(x)) {
      used.add(x);
      return { subnet: `${prefix}0/24`, prefix };
    }
  }
}

export { freePort } from '../helpers/registry.mjs';

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

// One busybox rootfs shared by every bundle of a sandbox (the mount points exist
// in advance, so parallel creates never race to make them).
function makeRootfs(dir) {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'www']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  for (const a of ['sh', 'httpd', 'wget', 'ip', 'sleep', 'cat', 'hostname']) symlinkSync('busybox', join(dir, 'bin', a));
  for (const f of ['hosts', 'hostname', 'resolv.conf']) writeFileSync(join(dir, 'etc', f), '');
  writeFileSync(join(dir, 'www/index.html'), 'hello from a rocker container\n');
}

function baseConfig(rootfs, args) {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: Object.fromEntries(
        ['bounding', 'effective', 'permitted'].map((k) => [k, ['CAP_NET_BIND_SERVICE', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID', 'CAP_SETGID']]),
      ),
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1024k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: ['pid', 'ipc', 'uts', 'mount'].map((type) => ({ type })),
      maskedPaths: ['/proc/kcore', '/proc/keys'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** Host facts a test compares before and after. */
export function snapshot() {
  const ipt = run('iptables-save', []).stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '').trim());
  const links = run('ip', ['-o', 'link']).stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1].trim().split('@')[0]);
  return { ipt: new Set(ipt), links: new Set(links) };
}

/** The iptables chain suffix CNI's bridge and portmap plugins derive from network name + container id. */
export function chainHash(network, id) {
  return createHash('sha512').update(network + id).digest('hex').slice(0, 21);
}

export class Sandbox {
  /** `runtime`: the OCI runtime binary the sandbox's containers run under. */
  constructor(tag, runtime = Object.values(RUNTIMES)[0]) {
    this.runtimeBin = runtime;
    this.dir = mkdtempSync(`/tmp/rocker-net-${tag}-`);
    this.dirs = networkDirs(join(this.dir, 'conf'), join(this.dir, 'state'));
    this.root = join(this.dir, 'runtime-root');
    this.rootfs = join(this.dir, 'rootfs');
    makeRootfs(this.rootfs);
    this.ids = new Set();
    this.networks = new Map(); // name -> facts
    this.veths = new Map(); // container id -> its host-side veth names
    this.tag = tag;
    this.subnets = new Set();
  }

  async network(name, subnet) {
    const facts = await createNetwork(this.dirs, { name, subnet: subnet ?? freeSubnet(this.subnets).subnet });
    this.networks.set(name, facts);
    return facts;
  }

  /** Writes bundle `id` running `args` with the given network options; returns its dir. */
  async bundle(id, args, net = {}) {
    const dir = join(this.dir, 'bundles', id);
    mkdirSync(dir, { recursive: true });
    const cfg = baseConfig(this.rootfs, args);
    await applyNetwork(cfg, { bundleDir: dir, configDir: this.dirs.configDir, stateDir: this.dirs.stateDir, ...net });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
    return dir;
  }

  /** `runtime create`; the container's stdio goes to a log file so nothing waits on it. */
  create(id, bundle) {
    this.ids.add(id);
    const log = join(this.dir, `${id}.log`);
    const fd = openSync(log, 'w');
    return new Promise((resolve) => {
      const child = spawn(this.runtimeBin, ['--root', this.root, 'create', '--bundle', bundle, id], { stdio: ['ignore', fd, fd] });
      child.on('close', (code) => {
        closeSync(fd);
        resolve({ code, output: readFileSync(log, 'utf8') });
      });
    });
  }

  runtime(...args) {
    return run(this.runtimeBin, ['--root', this.root, ...args], { timeout: 30_000 });
  }

  /** create + start; throws with the runtime's output when either fails. */
  async start(id, args, net) {
    const r = await this.create(id, await this.bundle(id, args, net));
    if (r.code !== 0) throw new Error(`create ${id} failed (${r.code}): ${r.output}`);
    const s = this.runtime('start', id);
    if (s.status !== 0) throw new Error(`start ${id} failed: ${s.stderr}`);
    this.recordVeths(id);
  }

  exec(id, ...args) {
    return this.runtime('exec', id, ...args);
  }

  /** The container's address on its network (from the attachment record). */
  ipOf(network, id) {
    return inspectNetwork(this.dirs, network).containers.find((c) => c.id === id)?.ip?.split('/')[0];
  }

  recordVeths(id) {
    try {
      const a = JSON.parse(readFileSync(join(this.dirs.stateDir, 'containers', `${id}.json`), 'utf8'));
      const names = (a.result?.interfaces ?? []).filter((i) => !i.sandbox && i.name.startsWith('veth')).map((i) => i.name);
      this.veths.set(id, names);
    } catch {
      // not networked, or not attached
    }
  }

  delete(id) {
    return this.runtime('delete', '--force', id);
  }

  /** Everything this sandbox made, gone: containers, attachments, networks, bridges, mounts, files. */
  async cleanup() {
    for (const id of this.ids) {
      this.delete(id);
      await detach(this.dirs, id).catch(() => {});
    }
    for (const [name, facts] of this.networks) {
      await removeNetwork(this.dirs, name).catch(() => {});
      run('ip', ['link', 'del', facts.bridge]);
    }
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const target = line.split(' ')[4];
      if (target?.startsWith(this.dir)) run('umount', ['-l', target]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Names of files in the network's host-local store other than its lock and cursor. */
  leases(network) {
    try {
      return readdirSync(join(this.dirs.stateDir, 'ipam', network)).filter((f) => f !== 'lock' && !f.startsWith('last_reserved_ip'));
    } catch {
      return [];
    }
  }
}

/** Restores net.ipv4.ip_forward (the bridge plugin turns it on for gateways) when the suite ends. */
export function keepIpForward() {
  const file = '/proc/sys/net/ipv4/ip_forward';
  const before = readFileSync(file, 'utf8');
  return () => writeFileSync(file, before);
}

/**
 * A CNI path with the real plugins except: `firewall` missing (`missing`), or a
 * `firewall` that SIGKILLs its caller during ADD (`crash`), to fake a hook
 * that dies half-way through attaching. The kill comes once the real plugin has
 * added its rules: killed first, the plugin would still be adding them while
 * the test's delete cleans up, and a fast delete would finish before it.
 */
export function faultyCniPath(dir, fault) {
  mkdirSync(dir, { recursive: true });
  for (const p of ['bridge', 'host-local', 'portmap', 'loopback']) symlinkSync(`/usr/lib/cni/${p}`, join(dir, p));
  if (fault === 'crash') {
    writeFileSync(join(dir, 'firewall'), '#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] || exec /usr/lib/cni/firewall\n/usr/lib/cni/firewall\nkill -9 $PPID\nexit 1\n', { mode: 0o755 });
  }
  return dir;
}
