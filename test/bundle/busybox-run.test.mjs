// A bundle of a busybox image pulled from a registry runs with the image's
// entrypoint, env, workdir and user, and with the run flags applied.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startRegistry } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { validateConfig } from '../../dist/schemas/validators.js';
import { buildAppImage } from './busybox-image.mjs';
import { mountsUnder, rockerImage, rockerImageOk } from './cli.mjs';

const execFileP = promisify(execFile);
let dir;
let store;
let registry;
let image;
let n = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-bbrun-'));
  store = join(dir, 'store');
  registry = await startRegistry();
  await pushImage(buildAppImage(dir), 'app', registry.host, 'rocker/app:1');
  image = `${registry.host}/rocker/app:1`;
  await rockerImageOk(store, 'pull', '--quiet', image);
});

after(async () => {
  await registry?.stop();
  for (const m of mountsUnder(dir)) execFileSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
});

const RUNTIMES = {
  'rocker-runtime': [process.execPath, fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url))],
  runc: ['runc'],
};

/** `<runtime> run` of a bundle, the container removed afterwards; returns its stdout. */
async function runBundle(runtime, bundle) {
  const [cmd, ...pre] = RUNTIMES[runtime];
  const id = `rocker-bb-${process.pid}-${++n}`;
  const root = join(dir, `state-${runtime}`);
  try {
    const { stdout } = await execFileP(cmd, [...pre, '--root', root, 'run', '--bundle', bundle, id], { timeout: 30000 });
    return stdout;
  } finally {
    await execFileP(cmd, [...pre, '--root', root, 'delete', '--force', id]).catch(() => {});
  }
}

/** Bundles the image into `name` (flags, then IMAGE DIR, then `tail`), runs fn(bundle, config), always unbundles. */
async function withBundle(name, flags, fn, tail = []) {
  const bundle = join(dir, name);
  await rockerImageOk(store, 'bundle', ...flags, image, bundle, ...tail);
  try {
    await fn(bundle, JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')));
  } finally {
    await rockerImageOk(store, 'unbundle', bundle);
  }
}

/** The bundle prints `expected` (a string or a RegExp) under every runtime. */
async function assertRuns(bundle, expected) {
  for (const runtime of Object.keys(RUNTIMES)) {
    const out = await runBundle(runtime, bundle);
    if (expected instanceof RegExp) assert.match(out, expected, runtime);
    else assert.equal(out, expected, runtime);
  }
}

test('config.json carries the image config', async () => {
  await withBundle('cfg', [], (_bundle, spec) => {
    assert.ok(validateConfig(spec), JSON.stringify(validateConfig.errors));
    assert.deepEqual(spec.process.args.slice(0, 2), ['/bin/sh', '-c']);
    assert.match(spec.process.args[2], /^echo "uid=/);
    assert.deepEqual(spec.process.env, ['GREETING=hello', 'PATH=/bin']);
    assert.equal(spec.process.cwd, '/home/web');
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1001, additionalGids: [29, 44] });
    assert.equal(spec.process.terminal, false);
    assert.equal(spec.root.readonly, false);
    assert.equal(spec.annotations['org.opencontainers.image.exposedPorts'], '8080/tcp');
    assert.equal(spec.annotations['org.opencontainers.image.stopSignal'], 'SIGINT');
    assert.equal(spec.annotations['org.example.role'], 'test');
    const volume = spec.mounts.find((m) => m.destination === '/srv/data');
    assert.equal(volume.type, 'bind');
    assert.equal(readFileSync(join(volume.source, 'seed.txt'), 'utf8'), 'seeded\n', 'the volume is seeded from the image');
  });
});

test('the bundle runs with the image entrypoint, env, workdir and user', async () => {
  for (const flat of [[], ['--flat']]) {
    await withBundle(`run${flat}`, flat, (bundle) => assertRuns(bundle, 'uid=1000 gid=1001 groups=1001 29 44 cwd=/home/web greeting=hello\n'));
  }
});

test('run flags and arguments after -- apply', async () => {
  const host = join(dir, 'hostdir');
  mkdirSync(host);
  writeFileSync(join(host, 'f'), 'from host\n');
  const script = 'echo "$(id -u):$(id -g) $(pwd) $GREETING $EXTRA $(cat /mnt/f) $(cat /proc/sys/kernel/hostname)"; touch /x 2>/dev/null || echo read-only; touch /mnt/y 2>/dev/null || echo ro-volume';
  const flags = [
    '-e', 'GREETING=bye', '-e', 'EXTRA=1', '-w', '/tmp', '-u', 'root', '--hostname', 'flagged', '--read-only',
    '-v', `${host}:/mnt:ro`, '-m', '64m', '--pids-limit', '64', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0',
  ];
  await withBundle('flags', flags, async (bundle, spec) => {
    assert.deepEqual(spec.process.args, ['/bin/sh', '-c', script]);
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [44] });
    assert.deepEqual(spec.linux.resources.memory, { limit: 64 * 1024 * 1024 });
    assert.deepEqual(spec.linux.resources.pids, { limit: 64 });
    assert.deepEqual(spec.linux.resources.cpu, { period: 100000, quota: 50000, shares: 512, cpus: '0' });
    await assertRuns(bundle, '0:0 /tmp bye 1 from host flagged\nread-only\nro-volume\n');
  }, ['--', script]);
});

test('repeatable -e/-v take one value each: IMAGE and DIR after them stay positional', async () => {
  const host = join(dir, 'lastvol');
  mkdirSync(host);
  for (const flags of [['-e', 'A=1', '-e', 'B=2', '-v', `${host}:/v`], ['-v', `${host}:/v`, '--env', 'A=1', '--env', 'B=2']]) {
    await withBundle('lastflag', flags, (_bundle, spec) => {
      assert.deepEqual(spec.process.env.filter((e) => /^[AB]=/.test(e)), ['A=1', 'B=2']);
      assert.deepEqual(spec.mounts.filter((m) => m.destination === '/v').map((m) => m.source), [host]);
    });
  }
});

test('bad flags and unknown users are refused without leaving a bundle', async () => {
  const bundle = join(dir, 'bad');
  for (const args of [['-u', 'nobody'], ['-u', 'web:nogroup'], ['-m', 'lots'], ['-v', '/nonexistent-rocker:/x'], ['-w', 'relative']]) {
    const r = await rockerImage(store, 'bundle', image, bundle, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^rocker-image: /);
    assert.deepEqual(mountsUnder(bundle), []);
    assert.throws(() => readFileSync(join(bundle, 'config.json')), { code: 'ENOENT' });
  }
});

test('network flags hand the spec to the network module', async () => {
  const flags = ['--network', 'none', '--dns', '192.0.2.53', '--hostname', 'netbox'];
  await withBundle('net', flags, async (bundle, spec) => {
    assert.ok(spec.linux.namespaces.some((ns) => ns.type === 'network' && !ns.path));
    assert.ok(spec.mounts.some((m) => m.destination === '/etc/resolv.conf'));
    assert.equal(spec.annotations['org.rocker.network'], 'none');
    await assertRuns(bundle, /nameserver 192\.0\.2\.53\n(.|\n)*netbox\n$/);
  }, ['--', 'cat /etc/resolv.conf; cat /proc/sys/kernel/hostname']);
});
