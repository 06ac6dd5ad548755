// Shared by the runtime tests: busybox bundles in temp dirs, a temp --root per
// test file, and a way to call the runtime (and runc, to compare).
import { after } from 'node:test';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, symlinkSync, writeFileSync, rmSync, readdirSync, existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec } from '../../dist/runtime/spec/default-spec.js';
import { hierarchyMounts } from '../cgroups/layout.mjs';

export const RUNTIME = fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url));

const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'id', 'hostname', 'ls', 'grep', 'true', 'false', 'kill', 'pwd', 'env', 'test', 'mount'];

let seq = 0;
/** A container id no other test (or concurrently running helper) uses. */
export function uniqueId(prefix) {
  return `${prefix}-${process.pid}-${++seq}`;
}

/** A temp dir removed by `cleanup`. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `rocker-${prefix}-`));
}

/** A bundle whose rootfs is busybox-static; `edit(config)` adjusts the default spec. */
export function makeBundle(edit = () => {}) {
  const dir = tempDir('bundle');
  const bin = join(dir, 'rootfs', 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync('/bin/busybox', join(bin, 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(bin, a));
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root', 'mnt']) mkdirSync(join(dir, 'rootfs', d));
  const config = defaultSpec();
  config.process.terminal = false;
  config.root.readonly = false;
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/** Runs a command; resolves {code, signal, stdout, stderr}. */
export function runCmd(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...opts.spawn });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d) => (stderr += d));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The runtime with `--root root` and further args. */
export function rt(root, args, opts) {
  return runCmd(process.execPath, [RUNTIME, '--root', root, ...args], opts);
}

/**
 * The runtime for commands that leave a container holding their stdio (create,
 * run -d, exec -d): stdout/stderr go to files, and the result is ready when the
 * runtime exits rather than when every holder of its stdio has closed it.
 */
export function rtDetached(root, args) {
  return runDetached(process.execPath, [RUNTIME, '--root', root, ...args]);
}

/** runCmd for a command that leaves a process holding its stdio (see rtDetached). */
export function runDetached(cmd, args) {
  const dir = tempDir('out');
  const outFd = openSync(join(dir, 'out'), 'w');
  const errFd = openSync(join(dir, 'err'), 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', outFd, errFd] });
    closeSync(outFd);
    closeSync(errFd);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const r = { code, signal, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
      rmSync(dir, { recursive: true, force: true });
      resolve(r);
    });
  });
}

/** delete --force of every container left in `root`, then the dir itself. */
export async function cleanupRoot(root, runtime = rt) {
  if (existsSync(root)) {
    // Containers are the directories (the root's lock file is not one).
    for (const e of readdirSync(root, { withFileTypes: true })) if (e.isDirectory()) await runtime(root, ['delete', '--force', e.name]);
  }
  rmSync(root, { recursive: true, force: true });
}

/** The cgroup dirs of a container placed by default (/rocker/<id> in every hierarchy the host has) that exist now. */
export function cgroupDirsFor(id) {
  return hierarchyMounts()
    .map((m) => join(m, 'rocker', id))
    .filter((p) => existsSync(p));
}

/** A test file's rocker and runc state roots and scratch dirs, cleaned up after its tests;
 *  `bundle(args, edit, applets)` is a busybox bundle running args (applets beyond the
 *  helper's few are linked in), removed with the rest. */
export function suiteFixture() {
  const root = tempDir('root');
  const runcRoot = tempDir('runc-root');
  const dirs = [];
  after(async () => {
    await cleanupRoot(root);
    await cleanupRoot(runcRoot, (r, args) => runCmd('runc', ['--root', r, ...args]));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function bundle(args, edit = () => {}, applets = []) {
    const b = makeBundle((c) => {
      if (args) c.process.args = args;
      edit(c);
    });
    for (const a of applets) symlinkSync('busybox', join(b, 'rootfs/bin', a));
    dirs.push(b);
    return b;
  }
  return { root, runcRoot, dirs, bundle };
}

/** Polls `state` through `call` until the status is `want`. */
export async function waitStatus(call, id, want) {
  for (let i = 0; i < 250; i++) {
    const r = await call(['state', id]);
    if (r.code === 0 && JSON.parse(r.stdout).status === want) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`${id} never reached ${want}`);
}
