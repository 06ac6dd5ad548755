// Seccomp compilation: nsexec's seccomp.c (through test/seccomp/harness.c) turns
// OCI profiles into the BPF program exec caches, read back here instruction by
// instruction; bad profiles are refused naming the field. Nothing is loaded into
// the kernel (test/seccomp/ does that, as root), so no privilege is needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHarness } from '../seccomp/harness.mjs';

let dir;
let harness;
let seq = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-seccomp-check-'));
  harness = buildHarness(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const RET = 0x06; // BPF_RET | BPF_K
const SECCOMP_RET = { KILL_PROCESS: 0x80000000, TRAP: 0x00030000, ERRNO: 0x00050000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000 };
const FLAG = { TSYNC: 1, LOG: 2 };

function compile(profile) {
  const n = ++seq;
  const file = join(dir, `profile-${n}.json`);
  const out = join(dir, `program-${n}.bpf`);
  writeFileSync(file, JSON.stringify(profile));
  const r = spawnSync(harness, ['compile', file, out], { encoding: 'utf8' });
  return { ...r, out };
}

/** The cache file (bpfcache.c): magic, flags, count, then struct sock_filter {u16 code; u8 jt, jf; u32 k}. */
function program(profile) {
  const r = compile(profile);
  assert.equal(r.status, 0, r.stderr);
  const b = readFileSync(r.out);
  assert.equal(b.subarray(0, 8).toString('latin1'), 'rkbpf\0\0\x01');
  const flags = b.readUInt32LE(8);
  const len = b.readUInt32LE(12);
  assert.equal(b.length, 16 + len * 8);
  const insns = Array.from({ length: len }, (_, i) => ({ code: b.readUInt16LE(16 + i * 8), k: b.readUInt32LE(16 + i * 8 + 4) }));
  return { flags, insns, returns: new Set(insns.filter((x) => x.code === RET).map((x) => x.k >>> 0)) };
}

test('actions compile to the return values the kernel acts on; errnoRet is kept', () => {
  const p = program({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      { names: ['rmdir'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO' },
      { names: ['fchown'], action: 'SCMP_ACT_TRAP' },
      { names: ['no_such_syscall_xyz'], action: 'SCMP_ACT_LOG' },
    ],
  });
  for (const k of [SECCOMP_RET.ALLOW, SECCOMP_RET.ERRNO | 38, SECCOMP_RET.ERRNO | 1, SECCOMP_RET.KILL_PROCESS, SECCOMP_RET.TRAP]) {
    assert.ok(p.returns.has(k >>> 0), `ret 0x${k.toString(16)} in ${[...p.returns].map((x) => x.toString(16))}`);
  }
  assert.ok(!p.returns.has(SECCOMP_RET.LOG), 'a syscall this libseccomp does not know is skipped, as runc does');
  const deny = program({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.ok(deny.returns.has((SECCOMP_RET.ERRNO | 13) >>> 0) && deny.returns.has(SECCOMP_RET.ALLOW));
});

test('flags reach the program\'s load flags; more rules make a longer program', () => {
  const plain = program({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(plain.flags, 0);
  const flagged = program({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.equal(flagged.flags & (FLAG.TSYNC | FLAG.LOG), FLAG.TSYNC | FLAG.LOG);
  const bigger = program({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdir', 'rmdir', 'unlink', 'rename', 'chmod', 'chown'], action: 'SCMP_ACT_ERRNO' },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o7, valueTwo: 0o7, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
  assert.ok(bigger.insns.length > plain.insns.length, `${bigger.insns.length} > ${plain.insns.length}`);
});

test('the architectures asked for are checked in the program', { skip: process.arch !== 'x64' && 'not an x86-64 host (the audit arch values below are x86\'s)' }, () => {
  const AUDIT_ARCH = { X86_64: 0xc000003e, I386: 0x40000003 };
  const jeqs = (p) => new Set(p.insns.filter((x) => (x.code & 0xf7) === 0x15).map((x) => x.k >>> 0)); // BPF_JMP|BPF_JEQ|BPF_K
  const native = jeqs(program({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
  assert.ok(native.has(AUDIT_ARCH.X86_64) && !native.has(AUDIT_ARCH.I386));
  const multi = jeqs(program({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
  assert.ok(multi.has(AUDIT_ARCH.X86_64) && multi.has(AUDIT_ARCH.I386));
});

test('bad profiles are refused as a seccomp error naming what is wrong', () => {
  const allowAll = (syscalls, extra = {}) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls, ...extra });
  for (const [profile, message] of [
    [{ defaultAction: 'SCMP_ACT_BOGUS' }, /unknown seccomp action SCMP_ACT_BOGUS/],
    [allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_NOPE' }]), /syscalls\[0\]: unknown seccomp action SCMP_ACT_NOPE/],
    [allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ALMOST' }] }]), /unknown seccomp operator SCMP_CMP_ALMOST/],
    [allowAll([], { architectures: ['SCMP_ARCH_VAX'] }), /unknown seccomp architecture SCMP_ARCH_VAX/],
    [allowAll([], { flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }), /unknown seccomp flag/],
    [allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 5 }]), /errnoRet is only valid/],
    [{ defaultAction: 'SCMP_ACT_LOG', defaultErrnoRet: 5 }, /defaultAction: errnoRet is only valid/],
    [allowAll([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]), /listenerPath is not set/],
  ]) {
    const r = compile(profile);
    assert.equal(r.status, 1, JSON.stringify(profile));
    const err = JSON.parse(r.stderr.trim());
    assert.equal(err.type, 'error');
    assert.equal(err.stage, 'seccomp');
    assert.match(err.message, message);
  }
});
