// Builds test/seccomp/harness.c (nsexec's seccomp.c/selfclone.c driver, a profile compiler and a one-shot
// seccomp notify agent) into dir; returns the binary's path.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '../../nsexec/src');

export function buildHarness(dir) {
  const out = join(dir, 'harness');
  const cc = spawnSync('cc', ['-D_GNU_SOURCE', '-O1', '-o', out, join(here, 'harness.c'),
    join(src, 'seccomp.c'), join(src, 'bpfcache.c'), join(src, 'selfclone.c'), join(src, 'error.c'), '-ljson-c', '-lseccomp'],
  { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  return out;
}

/** Starts the notify agent on `socket`, answering one notification with -answerErrno.
 *  Resolves once it listens, to { done } where done resolves to its stdout lines
 *  (listening, the container process state JSON, {"notifiedSyscall":...}). */
export async function startAgent(harness, socket, answerErrno) {
  const agent = spawn(harness, ['agent', socket, String(answerErrno)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  agent.stdout.setEncoding('utf8');
  const closed = new Promise((resolve) => agent.on('close', resolve));
  await new Promise((resolve) => agent.stdout.on('data', (d) => { out += d; if (out.includes('listening\n')) resolve(); }));
  return {
    kill: () => agent.kill(),
    done: closed.then((code) => ({ code, lines: out.trim().split('\n') })),
  };
}
