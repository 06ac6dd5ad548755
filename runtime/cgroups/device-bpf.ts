// Device rules for cgroup2, which has no devices controller: a
// BPF_PROG_TYPE_CGROUP_DEVICE program built here and attached by the small C
// helper dist/rocker-devfilter (runtime/cgroups/native/devfilter.c; Node cannot call bpf(2)). The program checks the
// rules last to first, so the last matching rule decides, as writing them in
// order to v1's devices.allow/deny does; a request no rule matches is allowed,
// as in a new v1 cgroup (OCI configs start with a deny-all rule).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RockerError } from '../errors.js';
import type { DeviceRule } from './types.js';

// struct bpf_cgroup_dev_ctx: u32 access_type (access << 16 | type), u32 major, u32 minor.
const DEV_TYPE: Record<string, number> = { b: 1, c: 2 };
const ACCESS: Record<string, number> = { m: 1, r: 2, w: 4 };

// Opcodes (class | op | source) of the few instructions used.
const LDX_W = 0x61; // dst = *(u32 *)(src + off)
const AND32_K = 0x54;
const RSH32_K = 0x74;
const MOV64_K = 0xb7;
const MOV64_X = 0xbf;
const JNE_K = 0x55; // if dst != imm goto +off
const EXIT = 0x95;

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access || 'rwm') bits |= ACCESS[ch] ?? 0;
  return bits;
}

/** The instructions for one rule: jumps past the rule when it does not match, else returns its verdict. */
function ruleInsns(r: DeviceRule): { insns: Insn[]; catchAll: boolean } {
  const checks: Insn[][] = [];
  const type = r.type ?? 'a';
  if (type !== 'a') checks.push([[JNE_K, 2, 0, 0, DEV_TYPE[type]]]);
  const bits = accessBits(r.access);
  // The requested access must be within the rule's: (requested & ~rule) == 0.
  if (bits !== 7) checks.push([[MOV64_X, 1, 3, 0, 0], [AND32_K, 1, 0, 0, ~bits & 7], [JNE_K, 1, 0, 0, 0]]);
  if (type !== 'a' && r.major !== undefined && r.major >= 0) checks.push([[JNE_K, 4, 0, 0, r.major]]);
  if (type !== 'a' && r.minor !== undefined && r.minor >= 0) checks.push([[JNE_K, 5, 0, 0, r.minor]]);
  const verdict: Insn[] = [[MOV64_K, 0, 0, 0, r.allow ? 1 : 0], [EXIT, 0, 0, 0, 0]];
  const body = [...checks.flat(), ...verdict];
  // Each conditional jump skips to the end of this rule's block.
  const insns = body.map((insn, i): Insn => (insn[0] === JNE_K ? [insn[0], insn[1], insn[2], body.length - i - 1, insn[4]] : insn));
  return { insns, catchAll: checks.length === 0 };
}

export function deviceProgram(rules: DeviceRule[]): Buffer {
  const insns: Insn[] = [
    [LDX_W, 2, 1, 0, 0],
    [AND32_K, 2, 0, 0, 0xffff],
    [LDX_W, 3, 1, 0, 0],
    [RSH32_K, 3, 0, 0, 16],
    [LDX_W, 4, 1, 4, 0],
    [LDX_W, 5, 1, 8, 0],
  ];
  // The verifier refuses unreachable code: nothing follows a rule that matches everything.
  let catchAll = false;
  for (const r of [...rules].reverse()) {
    const block = ruleInsns(r);
    insns.push(...block.insns);
    if ((catchAll = block.catchAll)) break;
  }
  if (!catchAll) insns.push([MOV64_K, 0, 0, 0, 1], [EXIT, 0, 0, 0, 0]);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, dst, src, off, imm], i) => {
    buf.writeUInt8(code, i * 8);
    buf.writeUInt8((src << 4) | dst, i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm, i * 8 + 4);
  });
  return buf;
}

/** Attaches a program enforcing `rules` to the cgroup2 directory `dir`. */
export function attachDeviceFilter(dir: string, rules: DeviceRule[]): void {
  // Loaded here: delete and kill --all load this module with the manager but never attach.
  const { spawnSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const helper = fileURLToPath(new URL('../../rocker-devfilter', import.meta.url));
  const r = spawnSync(helper, [dir], { input: deviceProgram(rules), encoding: 'utf8' });
  if (r.error) throw new RockerError(`run ${helper}: ${r.error.message}`);
  if (r.status !== 0) throw new RockerError(`device rules for ${dir}: ${r.stderr.trim()}`, { path: dir });
}
