// exec into a container's cgroups, on whatever layout the host has: the exec'd
// process joins every cgroup of the init, or with --cgroup an existing sub-cgroup
// ("<controller>:<sub>" on v1, "<sub>" anywhere), as seen from the host.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, rt, rtDetached, tempDir, cleanupRoot, uniqueId } from '../runtime/helpers.mjs';
import { cleanup, dirFor, home, TOP } from './helpers.mjs';

const root = tempDir('cgexec');
const bundles = [];
after(async () => {
  await cleanupRoot(root);
  await cleanup();
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
});

/** A running container limited to 20 pids, with its cgroup paths (from state.json). */
async function running(label) {
  const id = uniqueId(label);
  const b = makeBundle((c) => {
    c.process.args = ['sleep', '600'];
    c.linux.cgroupsPath = `/${TOP}-exec/${id}`;
    c.linux.resources = { ...c.linux.resources, pids: { limit: 20 } };
  });
  bundles.push(b);
  const r = await rtDetached(root, ['run', '-d', '-b', b, id]);
  assert.equal(r.code, 0, r.stderr);
  const st = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
  return { id, b, pid: st.pid, paths: st.cgroupPaths };
}

/** Runs `sleep` detached in the container with `flags`; returns the host's /proc/<pid>/cgroup of it. */
async function execCgroups(c, flags = []) {
  const pidFile = join(c.b, `exec-${Date.now()}.pid`);
  const r = await rtDetached(root, ['exec', '-d', '--pid-file', pidFile, ...flags, c.id, 'sleep', '600']);
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(`/proc/${readFileSync(pidFile, 'utf8')}/cgroup`, 'utf8');
}

test('an exec\'d process joins every cgroup of the init and counts against its pids limit', async () => {
  const c = await running('join');
  assert.equal(await execCgroups(c), readFileSync(`/proc/${c.pid}/cgroup`, 'utf8'));
  const pids = dirFor(c.paths, 'pids');
  assert.equal(readFileSync(join(pids, 'pids.current'), 'utf8').trim(), '2');
  assert.equal((await rt(root, ['delete', '--force', c.id])).code, 0);
});

test('exec --cgroup places the process in an existing sub-cgroup of the container\'s', async () => {
  const c = await running('sub');
  const init = readFileSync(`/proc/${c.pid}/cgroup`, 'utf8');
  // The sub-cgroup in every hierarchy, so "<sub>" alone finds it everywhere.
  const dirs = [...new Set(Object.values(c.paths))].map((d) => join(d, 'sub'));
  for (const d of dirs) mkdirSync(d);
  // A new v1 cpuset has no cpus or mems until given some.
  if (home('cpuset') === 'v1') for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(c.paths.cpuset, 'sub', f), readFileSync(join(c.paths.cpuset, f)));
  try {
    const all = await execCgroups(c, ['--cgroup', 'sub']);
    assert.equal(all, init.replace(/:(\/\S*)$/gm, ':$1/sub'));
    if (home('pids') === 'v1') {
      const one = await execCgroups(c, ['--cgroup', 'pids:sub']);
      const pidsLine = /^\d+:pids:(.*)$/m.exec(init)[1];
      assert.match(one, new RegExp(`^\\d+:pids:${pidsLine}/sub$`, 'm'), 'pids: the sub-cgroup');
      assert.match(one, new RegExp(`^\\d+:memory:${/^\d+:memory:(.*)$/m.exec(init)[1]}$`, 'm'), 'memory: the container\'s own');
    }
    const missing = await rtDetached(root, ['exec', '-d', '--cgroup', 'nosuch', c.id, 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /nosuch/);
    const escape = await rt(root, ['exec', '--cgroup', '../x', c.id, 'true']);
    assert.equal(escape.code, 255);
    assert.match(escape.stderr, /\.\.\/x is not a sub cgroup path/);
  } finally {
    assert.equal((await rt(root, ['delete', '--force', c.id])).code, 0);
    for (const d of dirs) if (existsSync(d)) rmdirSync(d);
  }
});

test('exec --cgroup refusals read as runc\'s (a parent, a missing sub-cgroup, an unknown controller)', async () => {
  const c = await running('subref');
  try {
    const ctrl = home('cpu') === 'v1' ? 'cpu' : '';
    const cases = [
      [['..'], / \.\. is not a sub cgroup path/],
      [['nonexistent'], / adding pid .*\/nonexistent\/cgroup\.procs: no such file /],
      ...(ctrl ? [[[`${ctrl}:nonexistent`], / adding pid .*\/nonexistent\/cgroup\.procs: no such file /]] : []),
      [['whaaat:/'], /unknown controller whaaat/],
    ];
    for (const [subs, error] of cases) {
      const r = await rt(root, ['exec', ...subs.flatMap((s) => ['--cgroup', s]), c.id, 'true']);
      assert.equal(r.code, 255, subs.join(' '));
      assert.match(r.stderr, error);
    }
  } finally {
    assert.equal((await rt(root, ['delete', '--force', c.id])).code, 0);
  }
});
