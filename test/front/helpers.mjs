import { after, before } from 'node:test';
// Running bin/rocker as a user would, with a temp --root and --runtime-root.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../helpers/registry.mjs';
import { pushImage } from '../helpers/images.mjs';
import { buildAppImage } from '../bundle/busybox-image.mjs';

export const ROCKER = fileURLToPath(new URL('../../bin/rocker', import.meta.url));

/** A registry on 127.0.0.1 holding the busybox app image (StopSignal SIGINT, Entrypoint sh -c), and a rocker root. */
export async function frontFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-front-'));
  const registry = await startRegistry();
  await pushImage(buildAppImage(dir), 'app', registry.host, 'rocker/app:1');
  const f = {
    dir,
    root: join(dir, 'root'),
    runtimeRoot: join(dir, 'runtime'),
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
    /** A long-running rocker command (logs -f) as a child process. */
    spawn: (...args) => spawn(ROCKER, ['--root', f.root, '--runtime-root', f.runtimeRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: f.env }),
    async ok(...args) {
      const r = await f.rocker(...args);
      if (r.code !== 0) throw new Error(`rocker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
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
