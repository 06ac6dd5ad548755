// The start handshake on a real fifo: released by a waiting writer's byte (and
// returning once the writer's fd closes, as at execve), refused at once when
// no init is waiting or the writer goes away without the byte.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
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

/**
 * A writer like a created init: it holds a write end (taken through a momentary
 * read-write open, as nsexec does before `created`), says "held", then runs `then`.
 */
async function writer(path, then) {
  const w = spawn('/bin/sh', ['-c', `exec 5<>"$1" 4>"$1" 5<&-; echo held; ${then}`, 'sh', path], { stdio: ['pipe', 'pipe', 'ignore'] });
  await once(w.stdout, 'data');
  return w;
}

test('a waiting init is released by its byte; start returns when the fd closes', async () => {
  const p = fifo('a');
  // The release blocks, so the writer keeps its own time: its open for writing returns
  // only once the release opens the fifo, so both pauses (0.2 s + 0.2 s) follow t0.
  const w = await writer(p, 'exec 3>"$1"; sleep 0.2; printf 0 >&3; sleep 0.2; exec 3>&- 4>&-; sleep 5');
  const t0 = Date.now();
  releaseExecFifo(p);
  assert.ok(Date.now() - t0 >= 380, 'waited for the byte and then for the close that stands for execve');
  w.kill('SIGKILL');
});

test('no waiting init: refused at once', () => {
  assert.throws(() => releaseExecFifo(fifo('b')), /container process is already dead/);
});

test('an init that dies without writing: refused', async () => {
  const p = fifo('c');
  await writer(p, 'sleep 0.2');
  assert.throws(() => releaseExecFifo(p), /container process is already dead/);
});
