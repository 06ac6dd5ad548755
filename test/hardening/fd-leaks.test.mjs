// No host file descriptor reaches the container, at run and at exec, even one the caller
// hands the runtime without close-on-exec (as containerd does with fd 3); and a cwd that
// would lead outside the root (CVE-2024-21626: /proc/self/fd/N of a leaked fd) is refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBundle, runDetached, runOnce, runtimes, uniqueId } from './lib.mjs';

// `ls -l /proc/self/fd` lines become fd -> target; ls's own directory fd is the only
// extra one allowed, and it points at that very /proc/<pid>/fd directory.
function openFds(lsOutput) {
  const fds = new Map();
  for (const m of lsOutput.matchAll(/ (\d+) -> (.*)$/gm)) fds.set(Number(m[1]), m[2]);
  return fds;
}

function assertOnlyStdio(lsOutput, secret) {
  const fds = openFds(lsOutput);
  assert.ok(fds.has(0) && fds.has(1) && fds.has(2), lsOutput);
  for (const [fd, target] of fds) {
    if (fd <= 2) continue;
    assert.match(target, /^\/proc\/\d+\/fd$/, `fd ${fd} -> ${target} leaked into the container`);
  }
  assert.ok(!lsOutput.includes(secret), lsOutput);
}

let hostDir;
let secretFd;
before(() => {
  hostDir = mkdtempSync(join(tmpdir(), 'hardening-fds-'));
  mkdirSync(join(hostDir, 'hostsecret'));
  writeFileSync(join(hostDir, 'hostsecret/HOST-MARKER'), 'host');
  secretFd = openSync(join(hostDir, 'hostsecret'), 'r');
});
after(() => {
  closeSync(secretFd);
  rmSync(hostDir, { recursive: true, force: true });
});

for (const rt of runtimes()) {
  describe(`fd leaks and cwd (${rt.name})`, () => {

    test('run: only stdio is open in the container, the inherited fd 3 is not', () => {
      const b = makeBundle({ args: ['ls', '-l', '/proc/self/fd'] });
      try {
        const r = runOnce(rt, b, { extraFds: [secretFd] });
        assert.equal(r.status, 0, r.stderr);
        assertOnlyStdio(r.stdout, 'hostsecret');
      } finally { b.remove(); }
    });

    test('exec: only stdio is open in the exec\'d process, the inherited fd 3 is not', () => {
      const b = makeBundle({ args: ['sleep', '30'] });
      const id = uniqueId('fdexec');
      try {
        runDetached(rt, b, id);
        const r = rt.cmd(['exec', id, 'ls', '-l', '/proc/self/fd'], { stdio: ['ignore', 'pipe', 'pipe', secretFd] });
        assert.equal(r.status, 0, r.stderr);
        assertOnlyStdio(r.stdout, 'hostsecret');
        // A leaked fd as cwd of an exec'd process must not lead out of the root either.
        for (let fd = 3; fd < 10; fd++) {
          const e = rt.cmd(['exec', '--cwd', `/proc/self/fd/${fd}`, id, 'sh', '-c', 'pwd; ls'], { stdio: ['ignore', 'pipe', 'pipe', secretFd] });
          assert.ok(!/unreachable|HOST-MARKER/.test(e.stdout), `exec cwd /proc/self/fd/${fd}: ${e.stdout}`);
        }
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });

    test('a cwd through a leaked fd (/proc/self/fd/N) never lands outside the root', () => {
      for (let fd = 3; fd < 10; fd++) {
        const b = makeBundle({ args: ['sh', '-c', 'pwd; ls'], cwd: `/proc/self/fd/${fd}` });
        try {
          const r = runOnce(rt, b, { extraFds: [secretFd] });
          // getcwd() reports "(unreachable)" for a directory outside the process's root.
          assert.ok(!/unreachable|HOST-MARKER/.test(r.stdout), `cwd /proc/self/fd/${fd}: ${r.stdout}`);
          if (r.status !== 0) assert.ok(r.stderr.trim().length > 0, 'a refusal says why');
        } finally { b.remove(); }
      }
    });

    test('fd 3 as cwd is refused outright', () => {
      const b = makeBundle({ args: ['pwd'], cwd: '/proc/self/fd/3' });
      try {
        const r = runOnce(rt, b, { extraFds: [secretFd] });
        assert.notEqual(r.status, 0, r.stdout);
        assert.ok(r.stderr.trim().length > 0);
      } finally { b.remove(); }
    });
  });
}
