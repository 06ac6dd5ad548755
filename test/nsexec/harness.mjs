// Drives dist/nsexec directly over its protocol socket (fd 3), against a
// busybox-static rootfs in a temp dir. Shared by the nsexec tests.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, rmdirSync, readFileSync, existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateNsexecEvent, validateNsexecInit } from '../../dist/schemas/validators.js';
import { layout } from '../cgroups/layout.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const NSEXEC = join(here, '../../dist/nsexec');

/** A temp dir with rootfs/ holding busybox and its applet links. */
export function makeRootfs(prefix = 'rocker-nsexec-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  // relative links, so they resolve inside the container too
  for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (applet && applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  return { dir, rootfs, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const ALL_CAPS_DEFAULT = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD',
  'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

export function defaultMounts() {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ];
}

/** An init message for `create` with the usual namespaces; override anything. */
export function initMessage(rootfs, args, over = {}) {
  const { process: proc = {}, linux = {}, ...rest } = over;
  return {
    type: 'init', version: 1, mode: 'create', foreground: true, rootfs, hostname: 'nsx-test',
    mounts: defaultMounts(),
    process: {
      args, cwd: '/', env: ['PATH=/bin:/usr/bin', 'TERM=xterm'], user: { uid: 0, gid: 0 },
      capabilities: { bounding: ALL_CAPS_DEFAULT, effective: ALL_CAPS_DEFAULT, permitted: ALL_CAPS_DEFAULT },
      noNewPrivileges: true, ...proc,
    },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }],
      maskedPaths: ['/proc/kcore', '/proc/timer_list', '/proc/acpi'], readonlyPaths: ['/proc/sys', '/proc/bus'], ...linux,
    },
    ...rest,
  };
}

/**
 * Cgroups named `name` for init.cgroups on whatever layout the host has: the pids
 * and memory v1 hierarchies that exist and the cgroup2 one. Returns the message part,
 * the dirs (call make() and remove()), the /proc/self/cgroup lines a joined process
 * shows, and a cgroup that does not exist with the path nsexec names opening it.
 */
export function testCgroups(name) {
  const v1 = ['pids', 'memory'].filter((c) => layout.v1.has(c)).map((c) => ({ c, dir: join(layout.v1.get(c), name) }));
  const unified = layout.unified && join(layout.unified, name);
  const dirs = [...v1.map((h) => h.dir), ...(unified ? [unified] : [])];
  const lines = [
    ...v1.map(({ c }) => new RegExp(`^\\d+:(?:[^:]*,)?${c}(?:,[^:]*)?:/${name}$`, 'm')),
    ...(unified ? [new RegExp(`^0::/${name}$`, 'm')] : []),
  ];
  const missingDir = v1.length ? join(dirname(v1[0].dir), `${name}-missing`) : `${unified}-missing`;
  return {
    cgroups: { v1: v1.map((h) => h.dir), ...(unified ? { unified } : {}) },
    dirs,
    lines,
    missing: v1.length ? { cgroups: { v1: [missingDir] }, path: `${missingDir}/tasks` } : { cgroups: { unified: missingDir }, path: missingDir },
    make: () => dirs.forEach((d) => mkdirSync(d)),
    remove: () => dirs.forEach((d) => existsSync(d) && rmdirSync(d)),
  };
}

/** Throws unless `msg` (as it goes on the wire) is valid against the schemas/rocker validator. */
export function assertProtocol(validate, msg, what) {
  const wire = JSON.parse(JSON.stringify(msg));
  if (!validate(wire)) throw new Error(`${what} against schemas/rocker: ${JSON.stringify(validate.errors)}: ${JSON.stringify(wire)}`);
}

/**
 * Spawns nsexec, sends init (checked against schemas/rocker unless opts.unchecked
 * says why not; every event nsexec sends is checked too), answers every pid (unless init.cgroups: the protocol has no continue there) and sync with continue and collects
 * events. Resolves { events, stdout, stderr, code } when nsexec and the socket are
 * done, or as soon as an event of type opts.until arrives (a detached container
 * keeps the socket until it execs).
 */
export function drive(init, opts = {}) {
  if (!opts.unchecked) assertProtocol(validateNsexecInit, init, 'init message');
  return new Promise((resolve, reject) => {
    const stdio = opts.stdio ?? ['ignore', 'pipe', 'pipe'];
    // opts.preserve extra pipes become fds 3.., the socket comes after them
    const syncFd = 3 + (opts.preserve ?? 0);
    const child = spawn(NSEXEC, [String(syncFd)], { stdio: [...stdio, ...Array(syncFd - 3).fill('pipe'), 'pipe'] });
    const sock = child.stdio[syncFd];
    opts.onSpawn?.(child);
    const result = { events: [], stdout: '', stderr: '', code: null };
    let buf = '';
    let pending = 2 + (child.stdout ? 1 : 0) + (child.stderr ? 1 : 0);
    const done = () => { if (--pending === 0) resolve(result); };
    child.stdout?.on('data', (d) => { result.stdout += d; }).on('end', done);
    child.stderr?.on('data', (d) => { result.stderr += d; }).on('end', done);
    child.on('error', reject);
    child.on('exit', (c, sig) => { result.code = c ?? `signal ${sig}`; done(); });
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        try {
          assertProtocol(validateNsexecEvent, ev, 'nsexec event');
        } catch (e) {
          child.kill('SIGKILL');
          reject(e);
        }
        result.events.push(ev);
        opts.onEvent?.(ev);
        if ((ev.type === 'pid' && !init.cgroups) || ev.type === 'sync') {
          const msg = { type: 'continue' };
          if (opts.state) msg.state = opts.state;
          sock.write(JSON.stringify(msg) + '\n');
        }
        if (ev.type === opts.until) {
          sock.destroy();
          resolve(result);
        }
      }
    });
    sock.on('error', () => {});
    sock.on('close', done);
    sock.write(JSON.stringify(init) + '\n');
  });
}

export const eventOf = (r, type) => r.events.find((e) => e.type === type);

/** Mount points under dir still present in this (the host's) mount namespace. */
export function mountsUnder(dir) {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1]?.startsWith(dir));
}

/** Kills pid and waits until it is gone (it is not our child, so poll). */
export async function killAndWait(pid) {
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  for (let i = 0; i < 200; i++) {
    let st;
    try {
      st = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return; // reaped
    }
    if (st === 'Z') return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Compiles console-recv.c into dir; returns the binary's path. */
export function buildConsoleReceiver(dir) {
  const bin = join(dir, 'console-recv');
  const cc = spawnSync('cc', ['-O1', '-o', bin, join(here, 'console-recv.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc console-recv.c: ${cc.stderr}`);
  return bin;
}

/** Starts the console receiver on sockPath; resolves once it listens, with
 *  { output(): string, closed: Promise } (output is what the pty master gave). */
export async function listenConsole(bin, sockPath) {
  const client = spawn(bin, [sockPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const closed = new Promise((resolve) => client.on('close', resolve));
  await new Promise((resolve) => client.stdout.on('data', (d) => { out += d; if (out.includes('ready\n')) resolve(); }));
  return { output: () => out, closed };
}
