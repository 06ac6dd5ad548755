// nsexec's seccomp.c and selfclone.c driven directly through test/seccomp/harness.c:
// the filter really loads and acts, notify reaches its agent, the binary copy is sealed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildHarness, startAgent } from './harness.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
let dir;
let harness;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-seccomp-'));
  harness = buildHarness(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function runWith(profile, cmd, state = '-') {
  const file = join(dir, `profile-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(profile));
  return spawnSync(harness, ['run', file, state, ...cmd], { encoding: 'utf8' });
}

const allowAll = (syscalls, extra = {}) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls, ...extra });

test('SCMP_ACT_ERRNO with errnoRet makes mkdir fail with that errno while other calls work', () => {
  const target = join(dir, 'made');
  const r = runWith(allowAll([{ names: ['mkdir', 'mkdirat', 'no_such_syscall_xyz'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]),
    ['/bin/busybox', 'sh', '-c', `mkdir ${target}; echo mkdir=$?; echo hello > ${dir}/file && cat ${dir}/file`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Function not implemented/);
  assert.match(r.stdout, /mkdir=1\nhello\n/);
  assert.throws(() => statSync(target), { code: 'ENOENT' });
});

test('SCMP_ACT_ERRNO without errnoRet returns EPERM', () => {
  const r = runWith(allowAll([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }]),
    ['/bin/busybox', 'mkdir', join(dir, 'x')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Operation not permitted/);
});

test('SCMP_ACT_KILL_PROCESS kills with SIGSYS (exit 159 in a shell)', () => {
  const r = runWith(allowAll([{ names: ['rmdir'], action: 'SCMP_ACT_KILL_PROCESS' }]),
    ['/bin/busybox', 'sh', '-c', `/bin/busybox rmdir ${dir}/nothing; echo status=$?`]);
  assert.equal(r.stdout.trim(), 'status=159');
});

test('argument conditions: MASKED_EQ, and two conditions on one argument mean either', () => {
  const f = join(dir, 'modes');
  writeFileSync(f, '');
  const masked = runWith(allowAll([
    { names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o7, valueTwo: 0o7, op: 'SCMP_CMP_MASKED_EQ' }] },
  ]), ['/bin/busybox', 'sh', '-c', `chmod 777 ${f}; echo a=$?; chmod 640 ${f}; echo b=$?`]);
  assert.match(masked.stdout, /a=1\nb=0\n/, masked.stderr);
  assert.match(masked.stderr, /Permission denied/);
  assert.equal(statSync(f).mode & 0o777, 0o640);
  const either = runWith(allowAll([
    { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o600, op: 'SCMP_CMP_EQ' }, { index: 1, value: 0o604, op: 'SCMP_CMP_EQ' }] },
  ]), ['/bin/busybox', 'sh', '-c', `chmod 600 ${f}; echo a=$?; chmod 604 ${f}; echo b=$?; chmod 644 ${f}; echo c=$?`]);
  assert.match(either.stdout, /a=1\nb=1\nc=0\n/, either.stderr);
  assert.equal(statSync(f).mode & 0o777, 0o644);
});

// How profiles compile (and which are refused) is in test/check/seccomp.test.mjs.
test('a filter for several architectures with flags loads and runs', () => {
  const ok = runWith(allowAll([{ names: ['mkdirat', 'mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG'] }),
  ['/bin/busybox', 'true']);
  assert.equal(ok.status, 0, ok.stderr);
});

test('SCMP_ACT_NOTIFY sends the listener fd and the container process state to listenerPath', async () => {
  const sock = join(dir, 'agent.sock');
  const agent = await startAgent(harness, sock, 18);
  const state = JSON.stringify({ ociVersion: '1.3.0', id: 'notify-test', status: 'creating', pid: 4242, bundle: '/b' });
  const r = runWith(allowAll([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    { listenerPath: sock, listenerMetadata: 'meta=1' }), ['/bin/busybox', 'mkdir', join(dir, 'n')], state);
  const { code, lines } = await agent.done;
  assert.equal(code, 0);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Invalid cross-device link/); // the agent's answer, errno 18
  const msg = JSON.parse(lines[1]);
  assert.deepEqual(msg, { ociVersion: '1.3.0', fds: ['seccompFd'], pid: 4242, metadata: 'meta=1', state: JSON.parse(state) });
  assert.match(lines[2], /"notifiedSyscall":"mkdir(at)?"/);
});

test('nsexec code runs from a sealed memfd copy: /proc/self/exe cannot be written', () => {
  const before = createHash('sha256').update(readFileSync(harness)).digest('hex');
  const r = spawnSync(harness, ['exe-report'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout);
  const F_SEAL_ALL = 1 | 2 | 4 | 8;
  assert.equal(rep.seals & F_SEAL_ALL, F_SEAL_ALL);
  assert.notEqual(rep.writeErrno, 0);
  assert.notEqual(rep.reopenErrno, 0);
  assert.equal(createHash('sha256').update(readFileSync(harness)).digest('hex'), before);
});

test('the features object comes from the same tables and lists what is supported', () => {
  const r = spawnSync(harness, ['features'], { encoding: 'utf8' });
  const f = JSON.parse(r.stdout);
  assert.equal(f.enabled, true);
  assert.ok(f.actions.includes('SCMP_ACT_NOTIFY') && f.actions.includes('SCMP_ACT_KILL_PROCESS'));
  assert.ok(f.operators.includes('SCMP_CMP_MASKED_EQ'));
  assert.ok(f.archs.includes('SCMP_ARCH_X86_64'));
  assert.ok(f.supportedFlags.every((flag) => f.knownFlags.includes(flag)));
  assert.ok(f.supportedFlags.includes('SECCOMP_FILTER_FLAG_TSYNC'));
  // Every advertised flag really loads.
  for (const flag of f.supportedFlags) {
    const ok = runWith(allowAll([], { flags: [flag] }), ['/bin/busybox', 'true']);
    assert.equal(ok.status, 0, `${flag}: ${ok.stderr}`);
  }
});

test('rocker-runtime features reports exactly these tables as linux.seccomp', () => {
  const fromTables = JSON.parse(spawnSync(harness, ['features'], { encoding: 'utf8' }).stdout);
  const r = spawnSync(process.execPath, [join(repo, 'bin/rocker-runtime'), 'features'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).linux.seccomp, fromTables);
});
