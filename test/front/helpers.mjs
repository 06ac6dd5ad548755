import { after, before } from 'node:test';
import assert from 'node:assert/strict';
// Running bin/rocker as a user would, with a temp --root and --runtime-root.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { buildAppImage } from '../bundle/busybox-image.mjs';
import { hierarchyMounts } from '../cgroups/layout.mjs';

const ROCKER = fileURLToPath(new URL('../../bin/rocker', import.meta.url));

/** A registry on 127.0.0.1 holding the busybox app image (StopSignal SIGINT, Entrypoint sh -c), and a rocker root. */
export async function frontFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-front-'));
  const registry = await startRegistry();
  await pushImage(buildAppImage(dir), 'app', registry.host, 'rocker/app:1');
  const f = {
    dir,
    root: join(dir, 'root'),
    runtimeRoot: join(dir, 'runtime'),
    registryHost: registry.host,
    image: `${registry.host}/rocker/app:1`,
    // Networks this suite creates stay in its own directories (never /etc/rocker/networks).
    env: { ...process.env, ROCKER_NETWORK_CONFIG_DIR: join(dir, 'net-config'), ROCKER_NETWORK_STATE_DIR: join(dir, 'net-state') },
    /** Resolves { code, stdout, stderr } whatever the exit status. */
    rocker: (...args) =>
      new Promise((resolve) => {
        execFile(ROCKER, ['--root', f.root, '--runtime-root', f.runtimeRoot, ...args], { timeout: 120000, env: f.env }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      }),
    /**
     * rocker under script(1), a real pty: `write` types, `waitFor(text)` resolves the
     * output so far once it holds `text`, `exited` resolves { code, text }. A first
     * argument { rows, cols } is the pty's size before rocker starts; `resize(rows, cols)`
     * changes it later (the kernel sends SIGWINCH to rocker, as a terminal window does).
     */
    pty(...args) {
      const size = typeof args[0] === 'object' ? args.shift() : undefined;
      const words = [ROCKER, '--root', f.root, '--runtime-root', f.runtimeRoot, ...args].map((s) => `'${s.replaceAll("'", "'\\''")}'`).join(' ');
      const cmd = size ? `stty rows ${size.rows} cols ${size.cols} && exec ${words}` : words;
      const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: f.env });
      let text = '';
      const waiters = [];
      child.stdout.on('data', (d) => {
        text += d;
        for (const w of waiters.filter((w) => text.includes(w.want))) waiters.splice(waiters.indexOf(w), 1), w.resolve(text);
      });
      const exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code, text })));
      exited.then(() => waiters.forEach((w) => w.reject(new Error(`exited before "${w.want}"; got ${JSON.stringify(text)}`))));
      return {
        child,
        exited,
        write: (s) => child.stdin.write(s),
        resize(rows, cols) {
          // script's child (the shell, exec'd into rocker) has the pty's slave as its stdin.
          const [kid] = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ');
          execFileSync('stty', ['-F', readlinkSync(`/proc/${kid}/fd/0`), 'rows', String(rows), 'cols', String(cols)]);
        },
        waitFor: (want) => (text.includes(want) ? Promise.resolve(text) : new Promise((resolve, reject) => waiters.push({ want, resolve, reject }))),
      };
    },
    /** A long-running rocker command (logs -f, attach) as a child process, its stdio pipes. */
    spawn: (...args) => spawn(ROCKER, ['--root', f.root, '--runtime-root', f.runtimeRoot, ...args], { stdio: 'pipe', env: f.env }),
    async ok(...args) {
      const r = await f.rocker(...args);
      if (r.code !== 0) throw new Error(`rocker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    /** No record, log, bundle mount, runtime state, monitor, iptables rule, netns or cgroup is left of container `id`. */
    async assertGone(id, info) {
      assert.equal(existsSync(join(f.root, 'containers', id)), false);
      assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(id), false, 'a mount is left');
      assert.equal(existsSync(join(f.runtimeRoot, id)), false);
      assert.equal(existsSync(`/proc/${info.monitorPid}`) && readFileSync(`/proc/${info.monitorPid}/cmdline`, 'utf8').includes('rocker-monitor'), false);
      // CNI's portmap and bridge rules carry the container id in their comments; netns names hold it too.
      assert.equal(execFileSync('iptables-save', { encoding: 'utf8' }).includes(id), false, 'an iptables rule is left');
      assert.equal(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(id.slice(0, 12)), false, 'a netns is left');
      for (const base of hierarchyMounts()) {
        const found = cgroupsNamed(base, id);
        assert.deepEqual(found, [], `${base} still has ${found}`);
      }
    },
    async cleanup() {
      // Whatever a failed test left: containers (rm -f is what is tested), then mounts.
      for (const id of (await f.rocker('ps', '-aq')).stdout.split('\n').filter(Boolean)) await f.rocker('rm', '-f', id);
      await registry.stop();
      for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length)) {
        execFileSync('umount', ['-l', m]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return f;
}

/** Unique container names per run. */
let n = 0;
export const uniqueName = (what) => `t-${what}-${process.pid}-${++n}`;

/** Cgroup dirs under `dir` whose path holds `id`; other runs' cgroups may vanish while we walk. */
export function cgroupsNamed(dir, id) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  return entries.filter((e) => e.isDirectory()).flatMap((e) => {
    const sub = join(dir, e.name);
    return sub.includes(id) ? [sub] : cgroupsNamed(sub, id);
  });
}

/** A test file's fixture: made (image pulled) before its tests, cleaned up after them. */
export function suiteFront() {
  const f = {};
  before(async () => {
    Object.assign(f, await frontFixture());
    await f.ok('pull', f.image);
  }, { timeout: 120000 });
  after(async () => f.cleanup?.(), { timeout: 120000 });
  return f;
}
