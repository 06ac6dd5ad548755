// `create` SIGKILLed at several points (while it makes the cgroups, once they
// all exist, while a createRuntime hook runs): a later `delete --force` leaves no
// cgroup, no state dir and no process of that container.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { hierarchyMounts, layout } from '../cgroups/layout.mjs';
import { RUNTIME, rt, makeBundle, tempDir, uniqueId, cgroupDirsFor, cleanupRoot } from './helpers.mjs';

const opts = { timeout: 180_000 };

const root = tempDir('root');
const work = tempDir('create-killed');
after(async () => {
  await cleanupRoot(root);
  rmSync(work, { recursive: true, force: true });
});

/** The container's cgroup dir in every mounted hierarchy, existing or not (cgroupDirsFor lists those that exist). */
function candidateDirs(id) {
  return hierarchyMounts().map((m) => join(m, 'rocker', id));
}

/** Every process below `pid` (children, their children...), read from /proc. */
function descendants(pid) {
  const out = [];
  const walk = (p) => {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tids) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.split(' ').filter(Boolean).map(Number)) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

function alive(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Starts `create` and SIGKILLs it (and only it) once `when(id)` is true, polled in a
 * tight synchronous loop; returns the processes it had started by then.
 */
function createAndKill(id, bundle, when) {
  const child = spawn(process.execPath, [RUNTIME, '--root', root, 'create', '--bundle', bundle, id], { stdio: 'ignore' });
  const exited = new Promise((res) => child.once('exit', res));
  const deadline = Date.now() + 60_000;
  while (!when(id) && Date.now() < deadline);
  const started = descendants(child.pid);
  child.kill('SIGKILL');
  return exited.then(() => started);
}

async function assertCleanAfterDelete(id, started) {
  const d = await rt(root, ['delete', '--force', id]);
  assert.equal(d.code, 0, d.stderr);
  assert.equal(existsSync(join(root, id)), false, 'state dir removed');
  assert.deepEqual(cgroupDirsFor(id), [], 'no cgroup left');
  for (let i = 0; i < 100 && started.some(alive); i++) await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(started.filter(alive), [], 'no process of the create left');
}

const bundle = makeBundle((c) => (c.process.args = ['sleep', '1000']));

const POINTS = [
  { name: 'the first cgroup dir appears', when: (id) => candidateDirs(id).some(existsSync) },
  { name: 'half the cgroup dirs exist', when: (id) => cgroupDirsFor(id).length >= candidateDirs(id).length / 2 },
  { name: 'the cgroup2 dir appears', when: (id) => existsSync(join(layout.unified, 'rocker', id)), skip: !layout.unified && 'no cgroup2 mount' },
];

for (const p of POINTS) {
  test(`create killed when ${p.name}: delete --force leaves nothing (5 trials)`, { ...opts, skip: p.skip }, async () => {
    for (let trial = 0; trial < 5; trial++) {
      const id = uniqueId('killed');
      const started = await createAndKill(id, bundle, p.when);
      await assertCleanAfterDelete(id, started);
    }
  });
}

test('create killed while its createRuntime hook runs: delete --force leaves nothing', opts, async () => {
  const marker = join(work, 'hook-ran');
  const hook = join(work, 'block.sh');
  writeFileSync(hook, `#!/bin/sh\ntouch ${marker}\nexec sleep 60\n`);
  chmodSync(hook, 0o755);
  const hooked = makeBundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.hooks = { createRuntime: [{ path: hook }] };
  });
  try {
    const id = uniqueId('killed-hook');
    const started = await createAndKill(id, hooked, () => existsSync(marker));
    // The hook is a host process of the runtime's, not the container's: the test ends it itself.
    const hookPids = started.filter((pid) => readCmd(pid) === 'sleep60');
    assert.equal(hookPids.length, 1, 'the hook was running');
    for (const pid of hookPids) process.kill(pid, 'SIGKILL');
    await assertCleanAfterDelete(id, started.filter((pid) => !hookPids.includes(pid)));
  } finally {
    rmSync(hooked, { recursive: true, force: true });
  }
});

function readCmd(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, '');
  } catch {
    return '';
  }
}
