// A bundle of a busybox image pulled from a registry runs with the image's
// entrypoint, env, workdir and user, and with the run flags applied.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const ENGINE_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP'];
const sameSet = (a, b) => assert.deepEqual([...a].sort(), [...b].sort());
/** The action the profile takes for `name` (called without arguments that filters look at). */
const ruleFor = (spec, name) => spec.linux.seccomp.syscalls.filter((r) => r.names.includes(name) && !r.args?.length).map((r) => r.action + (r.errnoRet ? `(${r.errnoRet})` : ''));

test('engine defaults: the capabilities, seccomp profile, masked paths and sysctls docker and podman give', async () => {
  await withBundle('engine', [], async (bundle, spec) => {
    const caps = spec.process.capabilities;
    sameSet(caps.bounding, ENGINE_CAPS);
    assert.deepEqual(caps.effective, caps.bounding);
    assert.deepEqual(caps.permitted, caps.bounding);
    assert.equal(caps.ambient, undefined);
    assert.equal(spec.process.noNewPrivileges, false);
    assert.equal(spec.linux.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(spec.linux.seccomp.defaultErrnoRet, 38);
    assert.deepEqual(ruleFor(spec, 'chroot'), ['SCMP_ACT_ALLOW'], 'CAP_SYS_CHROOT is granted');
    assert.deepEqual(ruleFor(spec, 'mount'), ['SCMP_ACT_ERRNO(1)'], 'CAP_SYS_ADMIN is not');
    assert.deepEqual(ruleFor(spec, 'keyctl'), ['SCMP_ACT_ERRNO(1)']);
    assert.ok(spec.linux.seccomp.syscalls.some((r) => r.names.includes('clone') && r.args?.[0].op === 'SCMP_CMP_MASKED_EQ'), 'clone filtered on namespace flags');
    assert.ok(spec.linux.maskedPaths.includes('/sys/devices/virtual/powercap'));
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
    // The image's user (uid 1000) keeps the bounding set and gets no effective capability, as under docker.
    await assertRuns(bundle, /CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n(.|\n)*Seccomp:\t2\n/);
  }, ['--', 'cat /proc/self/status']);
});

test('--cap-add/--cap-drop (ALL), --privileged, --security-opt, --defaults runc', async () => {
  await withBundle('capflags', ['--cap-drop', 'ALL', '--cap-add', 'net_bind_service,CAP_CHOWN', '-u', 'root'], async (bundle, spec) => {
    sameSet(spec.process.capabilities.bounding, ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']);
    assert.deepEqual(ruleFor(spec, 'chroot'), ['SCMP_ACT_ERRNO(1)'], 'the profile follows the capabilities');
    await assertRuns(bundle, /CapEff:\t0000000000000401\n/);
  }, ['--', 'cat /proc/self/status']);
  await withBundle('capall', ['--cap-add', 'ALL', '--cap-drop', 'NET_RAW'], (_bundle, spec) => {
    assert.equal(spec.process.capabilities.bounding.length, 40);
    assert.ok(!spec.process.capabilities.bounding.includes('CAP_NET_RAW'));
    assert.deepEqual(ruleFor(spec, 'mount'), ['SCMP_ACT_ALLOW']);
    assert.ok(!spec.linux.seccomp.syscalls.some((r) => r.names.includes('clone') && r.args), 'clone unfiltered with CAP_SYS_ADMIN');
  });
  await withBundle('privileged', ['--privileged'], (_bundle, spec) => {
    assert.equal(spec.process.capabilities.bounding.length, 41);
    assert.equal(spec.linux.seccomp, undefined);
    assert.equal(spec.linux.maskedPaths, undefined);
    assert.equal(spec.linux.readonlyPaths, undefined);
    assert.deepEqual(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  });
  await withBundle('unconfined', ['--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges'], (_bundle, spec) => {
    assert.equal(spec.linux.seccomp, undefined);
    assert.equal(spec.process.noNewPrivileges, true);
  });
  // Docker's profile format (containers-common's file is one): archMap and includes/excludes resolved here.
  await withBundle('dockerprofile', ['--security-opt', 'seccomp=/usr/share/containers/seccomp.json'], async (bundle, spec) => {
    assert.deepEqual(spec.linux.seccomp.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.ok(spec.linux.seccomp.syscalls.every((r) => !r.includes && !r.excludes));
    assert.deepEqual(ruleFor(spec, 'chroot'), ['SCMP_ACT_ALLOW']);
    await assertRuns(bundle, /Seccomp:\t2\n/);
  }, ['--', 'cat /proc/self/status']);
  await withBundle('runcdefaults', ['--defaults', 'runc'], (_bundle, spec) => {
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    sameSet(spec.process.capabilities.bounding, caps);
    sameSet(spec.process.capabilities.ambient, caps);
    assert.equal(spec.linux.seccomp, undefined);
    assert.equal(spec.process.noNewPrivileges, true);
    assert.equal(spec.linux.sysctl, undefined);
  });
});

test('--ulimit, --shm-size, --sysctl, --group-add, --tmpfs', async () => {
  const flags = ['--ulimit', 'nofile=2048:4096', '--shm-size', '32m', '--sysctl', 'kernel.shmmax=1000000', '--group-add', 'audio', '--group-add', '4242', '--tmpfs', '/run:size=1m'];
  await withBundle('moreflags', flags, async (bundle, spec) => {
    assert.deepEqual(spec.process.rlimits.find((r) => r.type === 'RLIMIT_NOFILE'), { type: 'RLIMIT_NOFILE', soft: 2048, hard: 4096 });
    assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm').options.includes(`size=${32 * 1024 * 1024}`));
    assert.equal(spec.linux.sysctl['kernel.shmmax'], '1000000');
    assert.deepEqual(spec.process.user.additionalGids, [29, 44, 4242]);
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m'] });
    await assertRuns(bundle, /^groups=1001 29 44 4242 shmmax=1000000\n(.*\n)*Max open files +2048 +4096 +files +\n/);
  }, ['--', 'echo "groups=$(id -G) shmmax=$(cat /proc/sys/kernel/shmmax)"; cat /proc/self/limits']);
  const bundle = join(dir, 'badsec');
  for (const args of [['--cap-add', 'FLY'], ['--security-opt', 'apparmor=x'], ['--ulimit', 'nofile=5:1'], ['--ulimit', 'nofile'], ['--sysctl', 'novalue'], ['--tmpfs', 'rel'], ['--group-add', 'nosuchgroup'], ['--security-opt', 'seccomp=/nonexistent.json']]) {
    const r = await rockerImage(store, 'bundle', image, bundle, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^rocker-image: /);
    assert.deepEqual(mountsUnder(bundle), []);
    assert.throws(() => readFileSync(join(bundle, 'config.json')), { code: 'ENOENT' });
  }
});

test('bundle pulls an image the store lacks and prints the bundle path; a short name that fails says what it expanded to', async () => {
  const fresh = join(dir, 'fresh-store');
  const bundle = join(dir, 'autopull');
  const r = await rockerImageOk(fresh, 'bundle', image, bundle);
  try {
    assert.equal(r.stdout, `${bundle}\n`, 'stdout carries only the path');
    assert.match(r.stderr, /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/rocker\/app:1\n/, 'the pull progress goes to stderr');
    await assertRuns(bundle, 'uid=1000 gid=1001 groups=1001 29 44 cwd=/home/web greeting=hello\n');
  } finally {
    await rockerImageOk(fresh, 'unbundle', bundle);
  }
  // No mirror and no Docker Hub here: the error still tells what "nosuch" meant and how to set a mirror.
  const short = await rockerImage(fresh, 'bundle', `nosuch-${process.pid}`, join(dir, 'nosuch'));
  assert.equal(short.code, 1);
  assert.match(short.stderr, new RegExp(`^rocker-image: nosuch-${process.pid} \\(expanded to docker\\.io/library/nosuch-${process.pid}:latest\\): .+\\n  to pull it through a mirror, list one in ${fresh}/registries\\.json or /etc/rocker/registries\\.json: \\{"mirrors": \\{"docker\\.io": \\[`));
  assert.throws(() => readFileSync(join(dir, 'nosuch', 'config.json')), { code: 'ENOENT' });
});

test('unbundle refuses a bundle a live container uses (overlay and --flat) unless --force', async () => {
  for (const flat of [[], ['--flat']]) {
    const bundle = join(dir, `busy${flat}`);
    await rockerImageOk(store, 'bundle', ...flat, image, bundle, '--', 'sleep 60');
    const [cmd, ...pre] = RUNTIMES['rocker-runtime'];
    const root = join(dir, 'state-busy');
    const id = `rocker-busy-${process.pid}-${++n}`;
    try {
      const r = spawnSync(cmd, [...pre, '--root', root, 'run', '-d', '--bundle', bundle, id], { stdio: 'ignore', timeout: 30000 });
      assert.equal(r.status, 0);
      const refused = await rockerImage(store, 'unbundle', bundle);
      assert.equal(refused.code, 1, `${flat}: ${refused.stderr}`);
      assert.match(refused.stderr, /the bundle is in use by a live container: pid \d+.*; stop and delete the container first, or use --force/);
      assert.ok(existsSync(join(bundle, 'config.json')), 'the bundle is untouched');
    } finally {
      spawnSync(cmd, [...pre, '--root', root, 'delete', '--force', id]);
    }
    await rockerImageOk(store, 'unbundle', bundle);
    assert.equal(existsSync(bundle), false);
  }
});
