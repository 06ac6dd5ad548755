// Pause, resume and kill --all through rocker-runtime with busybox containers,
// on whatever cgroup layout the host has (v1 freezer or cgroup.freeze).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rtDetached } from '../runtime/helpers.mjs';
import { dirFor, read, waitFor } from './helpers.mjs';
import { bundle, cleanup, containerId, created, deleteForce, root, rr, started } from './containers.mjs';

after(cleanup);

test('pause stops a counting container (state paused); resume lets it count on', async () => {
  const { id, bundle: b, paths } = await started('pause', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; done', {
    cpu: { quota: 20000, period: 100000 },
  });
  const count = () => Number(readFileSync(join(b, 'rootfs/tmp/count'), 'utf8').trim() || 0);
  await waitFor(() => existsSync(join(b, 'rootfs/tmp/count')) && count() > 0, 'counting to start');
  assert.equal((await rr(['pause', id])).code, 0);
  assert.equal(JSON.parse((await rr(['state', id])).stdout).status, 'paused');
  const at = count();
  await sleep(400);
  assert.equal(count(), at, 'no counting while paused');
  assert.equal((await rr(['resume', id])).code, 0);
  await waitFor(() => count() > at, 'counting to go on');
  assert.equal(JSON.parse((await rr(['state', id])).stdout).status, 'running');
  await deleteForce(id, paths);
});

test('kill --all of a paused container: other signals leave it paused, SIGKILL still empties it', async () => {
  const { id, bundle: b, paths } = await started('killpaused', 'trap "echo term > /tmp/term" TERM; sleep 600 & while :; do sleep 1; done');
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs').split('\n').length >= 3, 'the children to start');
  assert.equal((await rr(['pause', id])).code, 0);
  assert.equal((await rr(['kill', '--all', id, 'TERM'])).code, 0);
  assert.equal(paths.freezer ? read(paths.freezer, 'freezer.state') : read(paths[''], 'cgroup.freeze'), paths.freezer ? 'FROZEN' : '1');
  assert.equal(JSON.parse((await rr(['state', id])).stdout).status, 'paused');
  assert.ok(!existsSync(join(b, 'rootfs/tmp/term')), 'the frozen init has not run its handler');
  const k = await rr(['kill', '--all', id, 'KILL']);
  assert.equal(k.code, 0, k.stderr);
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs') === '', 'every frozen process to die');
  await waitFor(async () => JSON.parse((await rr(['state', id])).stdout).status === 'stopped', 'the container to stop');
  await deleteForce(id, paths);
});

test('kill --all sweeps what a container without a pid namespace leaves behind its stopped init', async () => {
  const id = containerId('leftover');
  const noPidns = (c) => (c.linux.namespaces = c.linux.namespaces.filter((ns) => ns.type !== 'pid'));
  const paths = await created(id, bundle(id, 'sleep 600 & echo started > /tmp/started', undefined, noPidns));
  assert.equal((await rtDetached(root, ['start', id])).code, 0);
  await waitFor(async () => JSON.parse((await rr(['state', id])).stdout).status === 'stopped', 'the init to exit');
  assert.notEqual(read(dirFor(paths, 'pids'), 'cgroup.procs'), '', 'the background sleep outlives the init');
  const plain = await rr(['kill', id, 'KILL']);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /container not running/);
  const k = await rr(['kill', '--all', id, 'KILL']);
  assert.equal(k.code, 0, k.stderr);
  await waitFor(() => read(dirFor(paths, 'pids'), 'cgroup.procs') === '', 'the leftover to die');
  await deleteForce(id, paths);
});

