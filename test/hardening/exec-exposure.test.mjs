// exec as a hostile container sees it (issue 16, items 2 and 11). A container
// holding CAP_SYS_PTRACE reads /proc/<pid>/fd and /proc/<pid>/environ of every
// process it can see, whatever their dumpable flag: no process of an exec may show
// it a host fd (a cgroup directory, the host's /proc) or the caller's environment
// at any moment. Its init (proc-watch.c) stops every new process the moment it
// appears and looks. And a foreground exec killed with SIGKILL leaves no helper
// behind: the exec'd process stays in the container's cgroups, as with runc.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBundle, runDetached, runtimes, uniqueId } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const EXECS = 40;
const CAPS = ['CAP_KILL', 'CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_SETUID', 'CAP_SETGID'];

let watchDir;
let watcher;
before(() => {
  watchDir = mkdtempSync(join(tmpdir(), 'hardening-watch-'));
  watcher = join(watchDir, 'proc-watch');
  const cc = spawnSync('cc', ['-static', '-O2', '-o', watcher, join(here, 'proc-watch.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
});
after(() => rmSync(watchDir, { recursive: true, force: true }));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** pid -> { ppid, args } of every host process. */
function hostProcesses() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.set(Number(name), { ppid, args });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/** Running: a zombie waiting for its reaper is gone as far as the test is concerned. */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function descendants(procs, root) {
  const found = [];
  const walk = (pid) => {
    for (const [p, info] of procs) if (info.ppid === pid) { found.push(p); walk(p); }
  };
  walk(root);
  return found;
}

for (const rt of runtimes()) {
  describe(`exec helpers as a ptrace-capable container sees them (${rt.name})`, { timeout: 240000 }, () => {

    test('no process of an exec shows a host fd, cwd, root or the caller\'s environment', async () => {
      const marker = `ROCKER_SEC_MARKER_${process.pid}_${Math.random().toString(36).slice(2)}`;
      const b = makeBundle({
        args: ['sh', '-c', `exec /proc-watch ${marker} > /tmp/findings`],
        caps: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      }, (rootfs) => copyFileSync(watcher, join(rootfs, 'proc-watch')));
      const id = uniqueId('ptrace');
      try {
        runDetached(rt, b, id);
        const env = { ...process.env, [marker]: 'from-the-exec-caller' };
        for (let i = 0; i < EXECS; i++) {
          const r = rt.cmd(['exec', id, '/bin/true'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          assert.equal(r.status, 0, r.stderr);
        }
        const findings = readFileSync(join(b.rootfs, 'tmp/findings'), 'utf8');
        const leaks = findings.split('\n').filter((l) => /^(host|env) /.test(l));
        assert.deepEqual(leaks, [], `what the container saw:\n${findings}`);
        // The watcher did catch exec processes before their execve (the busybox
        // applet is what they become), so the attack reached the window.
        const early = findings.split('\n').filter((l) => /^caught /.test(l) && !l.endsWith('/bin/busybox'));
        assert.ok(early.length > 0, `no exec process caught before its execve:\n${findings}`);
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });

    test('a foreground exec killed with SIGKILL leaves no helper; its process stays in the container\'s cgroups', async () => {
      const b = makeBundle({ args: ['sleep', '300'] });
      const id = uniqueId('execkill');
      const tag = `${Math.floor(Math.random() * 1e6) + 1000}`;
      try {
        runDetached(rt, b, id);
        const initPid = JSON.parse(rt.cmd(['state', id]).stdout).pid;
        const initCgroup = readFileSync(`/proc/${initPid}/cgroup`, 'utf8');
        const exec = spawn(rt.argv[0], [...rt.argv.slice(1), '--root', rt.root, 'exec', id, 'sleep', tag], { stdio: 'ignore' });
        // Wait until the exec'd sleep runs.
        let sleeper;
        for (let i = 0; i < 300 && !sleeper; i++) {
          await sleep(50);
          const procs = hostProcesses();
          sleeper = descendants(procs, exec.pid).find((p) => procs.get(p).args.join(' ') === `sleep ${tag}`);
        }
        assert.ok(sleeper, 'the exec\'d process started');
        const helpers = descendants(hostProcesses(), exec.pid).filter((p) => p !== sleeper);
        exec.kill('SIGKILL');
        await new Promise((r) => exec.once('exit', r));
        // Every helper between the runtime and the process goes with the runtime.
        let left = helpers;
        for (let i = 0; i < 100 && left.length; i++) {
          await sleep(50);
          left = left.filter(alive);
        }
        assert.deepEqual(left.map((p) => hostProcesses().get(p)?.args.join(' ')), [], 'helpers left running');
        // The process itself goes on, inside every cgroup of the container, so delete ends it.
        assert.equal(readFileSync(`/proc/${sleeper}/cgroup`, 'utf8'), initCgroup);
        assert.equal(rt.cmd(['delete', '-f', id]).status, 0);
        for (let i = 0; i < 100 && alive(sleeper); i++) await sleep(50);
        assert.ok(!alive(sleeper), 'delete -f ends the exec\'d process');
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });
  });
}
