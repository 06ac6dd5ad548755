// `rocker run -d` SIGKILLed at each step of its work (record, bundle, monitor,
// container created, pids saved before start), and the container's monitor
// SIGKILLed at each step from its start: ps -a, logs and rm -f must handle what is left.
// Each step is reached by polling for its artefact and killing then, so the
// kill lands at that step or a little after it, never before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { hierarchyMounts } from '../cgroups/layout.mjs';
import { cgroupsNamed, uniqueName, suiteFront } from './helpers.mjs';

const f = suiteFront();
const RUNTIME = fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url));
const execFileAsync = promisify(execFile);

const containersDir = () => join(f.root, 'containers');
const ids = () => (existsSync(containersDir()) ? readdirSync(containersDir()).filter((e) => /^[0-9a-f]{64}$/.test(e)) : []);
const readJson = (path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
};

/** The artefact that shows each step is done, for the container directory `dir`. */
const STEPS = {
  record: (dir) => existsSync(join(dir, 'container.json')),
  bundle: (dir) => existsSync(join(dir, 'bundle', 'config.json')),
  // The monitor is there, its runtime `create` at work.
  monitor: (dir) => monitorsOf(dir.slice(-64)).length > 0,
  // The runtime's create (run by the monitor) wrote the init's pid.
  created: (dir) => existsSync(join(dir, 'init.pid')),
  // The monitor's pids are saved: the next step is `runtime start`.
  'before start': (dir) => Boolean(readJson(join(dir, 'container.json'))?.monitorPid),
  // The container runs (its first line is logged).
  started: (dir) => existsSync(join(dir, 'container.log')) && readFileSync(join(dir, 'container.log'), 'utf8').includes('started'),
};

/** What is killed, and at which steps (a monitor is there from the "monitor" step; `run -d` is over once it started). */
const VICTIMS = {
  rocker: ['record', 'bundle', 'monitor', 'created', 'before start'],
  monitor: ['monitor', 'created', 'before start', 'started'],
};

/** Live rocker-monitor processes whose command line names container `id`. */
function monitorsOf(id) {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return argv[0].endsWith('rocker-monitor') && argv.some((a) => a.includes(id));
    } catch {
      return false;
    }
  });
}

/**
 * Starts `rocker run -d` and SIGKILLs `victim` (the command or the container's
 * monitor) once `step`'s artefact appears; resolves the new container's id and
 * how `rocker run` ended.
 */
async function killAt(victim, step, name) {
  const known = new Set(ids());
  const child = f.spawn('run', '-d', '--name', name, f.image, 'echo started; while true; do sleep 1; done');
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  exited.then(() => (done = true));
  let id;
  let seen = false;
  // The command's steps are seen before it ends; the monitor's last one ("started") after.
  for (const end = Date.now() + 60000; Date.now() < end && !seen && !(done && victim === 'rocker'); await sleep(2)) {
    id ??= ids().find((i) => !known.has(i));
    seen = Boolean(id) && STEPS[step](join(containersDir(), id));
  }
  if (victim === 'rocker') {
    child.kill('SIGKILL');
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL', `rocker run finished before the "${step}" step was seen`);
    return { id };
  }
  assert.ok(seen, `the "${step}" step was not seen (rocker run ${done ? 'ended' : 'still at work'}: ${stderr})`);
  const monitors = monitorsOf(id);
  assert.notDeepEqual(monitors, [], 'a monitor to kill');
  for (const pid of monitors) process.kill(Number(pid), 'SIGKILL');
  return { id, run: { ...(await exited), stderr } };
}

for (const [victim, steps] of Object.entries(VICTIMS)) for (const step of steps) {
  test(`${victim === 'rocker' ? 'rocker run -d' : 'the monitor'} killed after the ${step} step: ps -a, logs and rm -f handle what is left`, { timeout: 180000 }, async () => {
    for (let trial = 0; trial < 3; trial++) {
      const name = uniqueName(step.replace(' ', '-'));
      const { id, run } = await killAt(victim, step, name);
      assert.ok(id, 'the container directory was made');
      if (run) {
        // Without its monitor, `run` fails with a clear error and removes what it made, or the container runs on without it.
        if (run.code !== 0) assert.match(run.stderr, /^rocker: .+\n$/);
        else assert.equal(existsSync(join(containersDir(), id)), true);
      }
      if (!existsSync(join(containersDir(), id))) {
        assert.notEqual(run?.code, 0, 'the container was removed by a run that succeeded');
        await assertNothingLeft(id, name);
        continue;
      }

      // Every other trial runs rm -f at once, while what the killed command started may still be at work.
      if (trial % 2 === 0) {
        const rows = (await f.ok('ps', '-a', '--format', 'json')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
        const row = rows.find((r) => id.startsWith(r.ID));
        assert.ok(row, `ps -a lists ${id.slice(0, 12)}`);
        assert.match(row.Status, /^(Dead|Created|Up .*|Exited \(\d+\) .*)$/);

        const logs = await f.rocker('logs', id);
        if (logs.code !== 0) assert.match(logs.stderr, /^rocker: .+/, 'logs fails with a clear error');
        assert.doesNotMatch(logs.stderr, /\n\s+at /, 'no stack trace');
      }

      const rm = await f.rocker('rm', '-f', id.slice(0, 12));
      assert.equal(rm.code, 0, rm.stderr);
      await assertNothingLeft(id, name);
    }
  });
}

/** Nothing of container `id` is left, nothing comes back, and its name is free again. */
async function assertNothingLeft(id, name) {
  assert.equal(existsSync(join(containersDir(), id)), false, 'the container directory is left');
  assert.equal(existsSync(join(containersDir(), '.names', name)), false, 'the name is left');
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(id), false, 'a mount is left');
  assert.equal(existsSync(join(f.runtimeRoot, id)), false, "the runtime's state is left");
  assert.deepEqual(readdirSync('/run/rocker-front/sockets').filter((s) => s.startsWith(id)), [], 'a socket is left');
  assert.deepEqual(monitorsOf(id), [], 'a monitor is left');
  for (const base of hierarchyMounts()) assert.deepEqual(cgroupsNamed(base, id), [], `${base} still has a cgroup of ${id}`);
  // Whatever the killed command had started is over: nothing comes back.
  await sleep(1000);
  assert.equal(existsSync(join(f.runtimeRoot, id)), false, "the runtime's state came back");
  assert.deepEqual(monitorsOf(id), [], 'a monitor is still there');
  // The name is free again.
  await f.ok('run', '-d', '--name', name, f.image, 'true');
  await f.ok('rm', '-f', name);
}

test('stop of a container whose monitor was killed ends its init (the stop signal, then SIGKILL after the grace period)', { timeout: 120000 }, async () => {
  const name = uniqueName('orphan');
  // PID 1 of its namespace without a TERM handler: SIGTERM is ignored, only the SIGKILL ends it.
  const id = (await f.ok('run', '-d', '--name', name, f.image, 'echo started; while true; do sleep 1; done')).trim();
  const runtimeStatus = async () => {
    try {
      return JSON.parse((await execFileAsync(RUNTIME, ['--root', f.runtimeRoot, 'state', id])).stdout).status;
    } catch {
      return undefined;
    }
  };
  for (const end = Date.now() + 30000; (await runtimeStatus()) !== 'running' && Date.now() < end; ) await sleep(50);
  for (const pid of monitorsOf(id)) process.kill(Number(pid), 'SIGKILL');
  for (const end = Date.now() + 10000; monitorsOf(id).length && Date.now() < end; ) await sleep(50);
  assert.equal(await runtimeStatus(), 'running', 'the init outlives its monitor');

  await f.ok('stop', '-t', '1', name);
  assert.notEqual(await runtimeStatus(), 'running', 'stop ended the init');
  await f.ok('rm', '-f', name);
  await assertNothingLeft(id, name);
});
