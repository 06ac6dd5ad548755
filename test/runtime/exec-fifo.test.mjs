// The start handshake on a real fifo: released by a waiting writer's byte (and
// returning once the writer's fd closes, as at execve), refused at once when
// no init is waiting or the writer goes away without the byte.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { releaseExecFifo } from '../../dist/runtime/launch/exec-fifo.js';
import { tempDir } from './helpers.mjs';

const dir = tempDir('fifo');
after(() => rmSync(dir, { recursive: true, force: true }));

function fifo(name) {
  const p = join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
}

/** A writer that blocks in open like a created init, then runs `then` with the fifo on fd 3. */
function writer(path, then) {
  return spawn('/bin/sh', ['-c', `exec 3>"$1"; ${then}`, 'sh', path], { stdio: 'ignore' });
}

test('a waiting init is released by its byte; start returns when the fd closes', async () => {
  const p = fifo('a');
  const w = writer(p, 'printf 0 >&3; sleep 0.2; exec 3>&-; sleep 5');
  const t0 = Date.now();
  await releaseExecFifo(p);
  assert.ok(Date.now() - t0 >= 150, 'waited for the close that stands for execve');
  w.kill('SIGKILL');
});

test('no waiting init: refused at once', async () => {
  await assert.rejects(releaseExecFifo(fifo('b')), /container process is already dead/);
});

test('an init that dies without writing: refused', async () => {
  const p = fifo('c');
  writer(p, 'sleep 0.1');
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(releaseExecFifo(p), /container process is already dead/);
});
