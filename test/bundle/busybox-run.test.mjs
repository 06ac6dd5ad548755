// A bundle of a busybox image pulled from a registry runs with the image's
// entrypoint, env, workdir and user, and with the run flags applied.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('config.json carries the image config', async () => {
  const bundle = join(dir, 'cfg');
  await rockerImageOk(store, 'bundle', image, bundle);
  try {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
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
  } finally {
    await rockerImageOk(store, 'unbundle', bundle);
  }
});

test('the bundle runs with the image entrypoint, env, workdir and user', async () => {
  for (const flat of [false, true]) {
    const bundle = join(dir, `run-${flat}`);
    await rockerImageOk(store, 'bundle', ...(flat ? ['--flat'] : []), image, bundle);
    try {
      for (const runtime of Object.keys(RUNTIMES)) {
        assert.equal(await runBundle(runtime, bundle), 'uid=1000 gid=1001 groups=1001 29 44 cwd=/home/web greeting=hello\n', runtime);
      }
    } finally {
      await rockerImageOk(store, 'unbundle', bundle);
    }
  }
});

test('run flags and arguments after -- apply', async () => {
  const host = join(dir, 'hostdir');
  mkdirSync(host);
  writeFileSync(join(host, 'f'), 'from host\n');
  const bundle = join(dir, 'flags');
  const script = 'echo "$(id -u):$(id -g) $(pwd) $GREETING $EXTRA $(cat /mnt/f) $(cat /proc/sys/kernel/hostname)"; touch /x 2>/dev/null || echo read-only; touch /mnt/y 2>/dev/null || echo ro-volume';
  await rockerImageOk(
    store, 'bundle', image, bundle,
    '-e', 'GREETING=bye', '-e', 'EXTRA=1', '-w', '/tmp', '-u', 'root', '--hostname', 'flagged', '--read-only',
    '-v', `${host}:/mnt:ro`, '-m', '64m', '--pids-limit', '64', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0',
    '--', script,
  );
  try {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    assert.deepEqual(spec.process.args, ['/bin/sh', '-c', script]);
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [44] });
    assert.deepEqual(spec.linux.resources.memory, { limit: 64 * 1024 * 1024 });
    assert.deepEqual(spec.linux.resources.pids, { limit: 64 });
    assert.deepEqual(spec.linux.resources.cpu, { period: 100000, quota: 50000, shares: 512, cpus: '0' });
    for (const runtime of Object.keys(RUNTIMES)) {
      assert.equal(await runBundle(runtime, bundle), '0:0 /tmp bye 1 from host flagged\nread-only\nro-volume\n', runtime);
    }
  } finally {
    await rockerImageOk(store, 'unbundle', bundle);
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
