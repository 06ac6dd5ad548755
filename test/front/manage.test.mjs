// rocker pause/unpause, top, start, restart, rm -v, run -d --rm, commit, driven as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName, suiteFront } from './helpers.mjs';

const f = suiteFront();

const inspect = async (ref) => JSON.parse(await f.ok('inspect', ref))[0];
const TICKER = 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done';
const lastTick = async (name) => Number(/tick (\d+)\n$/.exec(await f.ok('logs', '--tail', '1', name))?.[1] ?? 0);

/** Polls `check` until it is true (the machine is shared and slow: no fixed sleeps as assertions). */
async function until(what, check, ms = 30000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

test('pause freezes the container, unpause resumes it, top lists its processes', { timeout: 90000 }, async () => {
  const name = uniqueName('pause');
  await f.ok('run', '-d', '--name', name, f.image, TICKER);
  await until('a first tick', async () => (await lastTick(name)) > 0);
  const top = await f.ok('top', name);
  assert.match(top.split('\n')[0], /PID/);
  assert.match(top, /sleep/);
  assert.match(await f.ok('top', name, '-o', 'pid,comm'), /^\s*PID COMMAND\n/);

  await f.ok('pause', name);
  assert.equal((await inspect(name)).state.state, 'paused');
  const frozen = await lastTick(name);
  await sleep(1000);
  assert.equal(await lastTick(name), frozen, 'no output while paused');
  await f.ok('unpause', name);
  assert.equal((await inspect(name)).state.state, 'running');
  await until('a tick after unpause', async () => (await lastTick(name)) > frozen);
  assert.equal((await f.rocker('unpause', name)).code !== 0, true, 'unpause of a running container fails');
  await f.ok('rm', '-f', name);
});

test('start reruns a stopped container with a new monitor and the log goes on; restart stops with the grace period then starts', { timeout: 120000 }, async () => {
  const name = uniqueName('start');
  const script = 'echo "run as pid $$"; trap "echo got INT; exit 5" INT; while true; do sleep 0.2; done';
  const runs = async (n) => (await f.ok('logs', name)).split('run as pid 1\n').length - 1 === n;
  await f.ok('run', '-d', '--name', name, f.image, script);
  await until('run 1', () => runs(1));
  const first = await inspect(name);
  await f.ok('stop', '-t', '20', name);
  assert.deepEqual((await inspect(name)).state.state, 'exited');
  assert.equal((await inspect(name)).state.exit.exitCode, 5);

  await f.ok('start', name);
  const second = await inspect(name);
  assert.equal(second.state.state, 'running');
  assert.notEqual(second.monitorPid, first.monitorPid);
  assert.notEqual(second.initPid, first.initPid);
  await until('run 2', () => runs(2));
  assert.equal(await f.ok('logs', name), 'run as pid 1\ngot INT\nrun as pid 1\n');
  // start of a running container changes nothing.
  await f.ok('start', name);
  assert.equal((await inspect(name)).initPid, second.initPid);

  // restart: the StopSignal (SIGINT, trapped: exit 5 within the grace period), then a new run.
  await f.ok('restart', '-t', '20', name);
  await until('run 3', () => runs(3));
  assert.equal(await f.ok('logs', name), 'run as pid 1\ngot INT\nrun as pid 1\ngot INT\nrun as pid 1\n');
  assert.equal((await inspect(name)).state.state, 'running');
  await f.ok('rm', '-f', name);
});

/** True when nothing of container `id` is left: its directory, runtime state, or a mount under the test's directory. */
function gone(id) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  return !existsSync(join(f.root, 'containers', id)) && !existsSync(join(f.runtimeRoot, id)) && !mounts.includes(id);
}

test('run -d --rm: the monitor removes the container when it exits, with no rocker command running', { timeout: 90000 }, async () => {
  const name = uniqueName('autorm');
  const id = (await f.ok('run', '-d', '--rm', '--name', name, f.image, 'echo bye; sleep 1')).trim();
  assert.equal(existsSync(join(f.root, 'containers', id)), true);
  await until('the container removed', () => gone(id));
  assert.equal((await f.rocker('inspect', name)).code, 1);
  // The name is free again.
  const again = (await f.ok('run', '-d', '--rm', '--name', name, f.image, 'trap "exit 0" INT; while true; do sleep 0.2; done')).trim();
  assert.equal((await inspect(name)).state.state, 'running');
  // stop ends it too: whoever made it exit, the monitor removes it.
  await f.ok('stop', name);
  await until('the stopped container removed', () => gone(again));
});

test('rm -v is accepted (anonymous volumes are in the bundle and always go with it)', { timeout: 60000 }, async () => {
  const name = uniqueName('rmv');
  const id = (await f.ok('run', '-d', '--name', name, f.image, 'sleep 1000')).trim();
  assert.equal(existsSync(join(f.runtimeRoot, id)), true, "the runtime's state is where gone() looks");
  assert.equal((await f.rocker('rm', '-v', name)).code, 1, 'a running container needs -f');
  await f.ok('rm', '-v', '-f', name);
  assert.equal(gone(id), true);
});

test('commit stores a running container\'s changes as an image that rocker runs', { timeout: 120000 }, async () => {
  const name = uniqueName('commit');
  const ref = `rocker/${name}:1`;
  await f.ok('run', '-d', '--name', name, f.image, 'trap "exit 0" INT; while true; do sleep 0.2; done');
  await f.ok('exec', '-u', '0', name, 'sh', '-c', `echo "made in ${name}" > /committed`);
  const digest = (await f.ok('commit', '-m', 'a test layer', name, ref)).trim();
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await inspect(name)).state.state, 'running', 'resumed after the commit');
  assert.match(await f.ok('images'), new RegExp(`rocker/${name}`));
  const r = await f.rocker('run', '--rm', ref, 'cat /committed');
  assert.equal(r.stdout, `made in ${name}\n`, r.stderr);
  await f.ok('rm', '-f', name);
  await f.ok('rmi', ref);
});
