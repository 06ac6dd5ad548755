// Shared set-up for the escape-attempt tests: busybox bundles in temp dirs and the
// runtimes under test (rocker-runtime and Debian's runc), driven by the same code.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

/** Copies the dynamic loader and the libraries `binary` needs into rootfs, at the same
 *  paths, as an image with a libc would have them. */
export function copySharedLibraries(binary, rootfs) {
  const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout;
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) {
    mkdirSync(join(rootfs, dirname(m[1])), { recursive: true });
    copyFileSync(m[1], join(rootfs, m[1]));
  }
}

/** A runtime under test: `argv` starts every invocation, `binaries` are the host files
 *  a container must never be able to modify, `execBinary` the one that executes the
 *  container's process (what `#!/proc/self/exe` in the container re-executes). */
function makeRuntime(name, argv, binaries, execBinary) {
  const rt = { name, argv, binaries, execBinary };
  // The state root is made on first use and removed when the test process ends, so
  // nothing is left behind even when a suite is skipped or fails half-way.
  Object.defineProperty(rt, 'root', {
    get() {
      const root = mkdtempSync(join(tmpdir(), `hardening-${name}-root-`));
      process.on('exit', () => rmSync(root, { recursive: true, force: true }));
      Object.defineProperty(rt, 'root', { value: root });
      return root;
    },
    configurable: true,
  });
  rt.cmd = (args, opts = {}) => spawnSync(argv[0], [...argv.slice(1), '--root', rt.root, ...args],
    { encoding: 'utf8', timeout: 30000, ...opts });
  return rt;
}

export function runtimes() {
  return [
    makeRuntime('rocker', [process.execPath, join(repo, 'bin/rocker-runtime')],
      [join(repo, 'dist/nsexec'), process.execPath], join(repo, 'dist/nsexec')),
    makeRuntime('runc', ['runc'], ['/usr/sbin/runc'], '/usr/sbin/runc'),
  ];
}

export function uniqueId(what) {
  return `hard-${what}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP'];

/** A config.json in the shape `runc spec` writes, with the fields tests vary. */
export function config({ args, cwd = '/', user = { uid: 0, gid: 0 }, caps = {}, noNewPrivileges = true,
  mounts = [], linux = {}, terminal = false } = {}) {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal, user, args, cwd,
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      capabilities: {
        bounding: caps.bounding ?? DEFAULT_CAPS,
        effective: caps.effective ?? DEFAULT_CAPS,
        permitted: caps.permitted ?? DEFAULT_CAPS,
        ...(caps.inheritable ? { inheritable: caps.inheritable } : {}),
        ...(caps.ambient ? { ambient: caps.ambient } : {}),
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'hardening',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...mounts,
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      ...linux,
    },
  };
}

/** A bundle in a temp dir: a private copy of busybox-static (never a link to the host's)
 *  with every applet in /bin, and config(opts). `prepare(rootfs)` adjusts the rootfs. */
export function makeBundle(opts = {}, prepare = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hardening-bundle-'));
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
  prepare(rootfs);
  const write = (cfg) => writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  write(config(opts));
  return { dir, rootfs, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `run` in the foreground; the container is always deleted afterwards. */
export function runOnce(rt, bundle, { id = uniqueId('run'), extraFds = [], args = [] } = {}) {
  try {
    return rt.cmd(['run', ...args, '--bundle', bundle.dir, id], { stdio: ['ignore', 'pipe', 'pipe', ...extraFds] });
  } finally {
    rt.cmd(['delete', '-f', id]);
  }
}

/** Starts the bundle detached (`run -d`; the container's stdout on /dev/null, stderr in
 *  a file, since a pipe would stay open as long as the container) and returns its id;
 *  the caller deletes it. */
export function runDetached(rt, bundle, id = uniqueId('detached')) {
  const devnull = openSync('/dev/null', 'r+');
  const errFile = join(bundle.dir, 'detached.stderr');
  const err = openSync(errFile, 'w+');
  try {
    const r = rt.cmd(['run', '-d', '--bundle', bundle.dir, id], { stdio: ['ignore', devnull, err] });
    if (r.status !== 0) throw new Error(`${rt.name} run -d failed: ${readFileSync(errFile, 'utf8') || r.error?.message}`);
    return id;
  } finally {
    closeSync(devnull);
    closeSync(err);
  }
}

/** The host's mount table, as "mountpoint fstype" lines. */
export function hostMounts() {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    return `${f[4]} ${f[sep + 1]}`;
  });
}
