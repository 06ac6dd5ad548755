// `rocker run -d` beside `podman run -d` (runc, and rocker-runtime as podman's
// --runtime) on the same image from a registry on 127.0.0.1: the time from the
// command's start to the container's first log line, and the RSS of the
// per-container monitor (rocker-monitor; podman's conmon). Everything lives in
// one temp directory (rocker's root, podman's --root/--runroot) removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry } from '../test/helpers/registry.mjs';
import { pushImage } from '../test/helpers/images.mjs';
import { buildAppImage } from '../test/bundle/busybox-image.mjs';
import { median, rssKiB } from './lib/stats.mjs';

const ROCKER = fileURLToPath(new URL('../bin/rocker', import.meta.url));
const ROCKER_RUNTIME = fileURLToPath(new URL('../bin/rocker-runtime', import.meta.url));
// The image's entrypoint is `sh -c`: one line, then idle.
const SCRIPT = 'echo ready; exec sleep 1000';

const nonEmpty = (path) => existsSync(path) && statSync(path).size > 0;

/** Runs `argv` and polls `logged()` every 2 ms; resolves the ms from spawn to the first log line, and the command's stdout. */
async function untilLogged(argv, logged) {
  const t0 = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise((resolve) => child.on('exit', resolve));
  let ms;
  for (const end = Date.now() + 60000; Date.now() < end; await sleep(2)) {
    if (logged()) {
      ms = Number(process.hrtime.bigint() - t0) / 1e6;
      break;
    }
  }
  const code = await done;
  if (ms === undefined || code !== 0) throw new Error(`${argv.slice(0, 3).join(' ')}…: exit ${code}, no log line: ${err.trim().slice(-300)}`);
  return { ms, out: out.trim() };
}

function summary(samples) {
  return { runs: samples.length, firstLogMs: median(samples.map((s) => s.ms)), monitorRssKiB: median(samples.map((s) => s.rssKiB)) };
}

/** The bench's own cgroup parent in every hierarchy; podman also writes plain dirs where /sys/fs/cgroup has no controller mounted (tmpfs). */
function removeCgroupParent(parent) {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const top = join('/sys/fs/cgroup', h, parent);
    if (!existsSync(top)) continue;
    if (execFileSync('stat', ['-f', '-c', '%T', top], { encoding: 'utf8' }).trim() === 'tmpfs') {
      rmSync(top, { recursive: true, force: true });
      continue;
    }
    const dirs = execFileSync('find', [top, '-type', 'd'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const d of dirs.sort((a, b) => b.length - a.length)) execFileSync('rmdir', [d]);
  }
}

export async function benchFront(runs) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-front-'));
  const registry = await startRegistry();
  const root = join(dir, 'rocker');
  const rocker = (...args) => [ROCKER, '--root', root, '--runtime-root', join(dir, 'rocker-run'), ...args];
  const podman = (runtime) => ['podman', '--root', join(dir, 'podman'), '--runroot', join(dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', runtime];
  // podman's cgroupfs manager puts conmon and the container under this parent (else a shared libpod_parent).
  const cgroupParent = `/bench-front-${process.pid}`;
  const result = {};
  try {
    await pushImage(buildAppImage(dir), 'app', registry.host, 'bench/app:1');
    const image = `${registry.host}/bench/app:1`;
    execFileSync(rocker('pull', image)[0], rocker('pull', image).slice(1), { stdio: 'ignore' });
    execFileSync('podman', [...podman('runc').slice(1), 'pull', '--tls-verify=false', '-q', image], { stdio: 'ignore' });

    const samples = [];
    for (let i = 0; i < runs; i++) {
      const containers = join(root, 'containers');
      const known = new Set(existsSync(containers) ? readdirSync(containers) : []);
      const log = () => existsSync(containers) && readdirSync(containers).some((e) => !known.has(e) && nonEmpty(join(containers, e, 'container.log')));
      const { ms, out: id } = await untilLogged(rocker('run', '-d', image, SCRIPT), log);
      const { monitorPid } = JSON.parse(execFileSync(ROCKER, rocker('inspect', id).slice(1), { encoding: 'utf8' }))[0];
      samples.push({ ms, rssKiB: rssKiB(monitorPid) });
      execFileSync(ROCKER, rocker('rm', '-f', id).slice(1), { stdio: 'ignore' });
    }
    result.rocker = summary(samples);

    for (const [name, runtime] of [['podman (runc)', 'runc'], ['podman (rocker-runtime)', ROCKER_RUNTIME]]) {
      const samples = [];
      for (let i = 0; i < runs; i++) {
        const log = join(dir, `podman-${i}-${runtime === 'runc' ? 'runc' : 'rocker'}.log`);
        const p = podman(runtime);
        const { ms, out: id } = await untilLogged([...p, 'run', '-d', '--network', 'none', '--cgroup-parent', cgroupParent, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', '--log-driver', 'k8s-file', '--log-opt', `path=${log}`, image, SCRIPT], () => nonEmpty(log));
        const conmon = Number(execFileSync('podman', [...p.slice(1), 'inspect', '--format', '{{.State.ConmonPid}}', id], { encoding: 'utf8' }).trim());
        samples.push({ ms, rssKiB: rssKiB(conmon) });
        execFileSync('podman', [...p.slice(1), 'rm', '-f', '-t', '0', id], { stdio: 'ignore' });
      }
      result[name] = summary(samples);
    }
    return result;
  } catch (e) {
    return { ...result, error: String(e.message).slice(0, 300) };
  } finally {
    // Whatever a failure left: containers, podman's storage mounts, then the directory.
    const ids = execFileSync(ROCKER, rocker('ps', '-aq').slice(1), { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const id of ids) execFileSync(ROCKER, rocker('rm', '-f', id).slice(1), { stdio: 'ignore' });
    try {
      execFileSync('podman', [...podman('runc').slice(1), 'rm', '-a', '-f', '-t', '0'], { stdio: 'ignore' });
      execFileSync('podman', [...podman('runc').slice(1), 'system', 'reset', '-f'], { stdio: 'ignore' });
    } catch {
      /* the directory's mounts are removed below */
    }
    removeCgroupParent(cgroupParent);
    await registry.stop();
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(`${dir}/`));
    for (const m of mounts.sort((a, b) => b.length - a.length)) execFileSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/front.mjs [RUNS]`: this part alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await benchFront(Number(process.argv[2] ?? 5)), null, 2) + '\n');
}
