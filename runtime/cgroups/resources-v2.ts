// Writing linux.resources to a cgroup2 directory, converting the v1-shaped spec
// values the way runc does: shares -> cpu.weight, blkio weight -> io.weight,
// memory+swap total -> memory.swap.max (swap only), quota/period -> cpu.max.
import type { ApplyContext, CgroupDir } from './apply-context.js';
import { deviceKey, THROTTLES } from './apply-context.js';
import type { Resources } from './types.js';

type R<K extends keyof Resources> = NonNullable<Resources[K]>;

const max = (n: number): string => (n === -1 ? 'max' : String(n));

/** cpu.shares (2..262144) -> cpu.weight (1..10000). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000). */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export function memoryV2(d: CgroupDir, m: R<'memory'>, ctx: ApplyContext): void {
  const limit = m.limit ?? 0;
  const swap = m.swap ?? 0;
  if (m.checkBeforeUpdate && limit > 0) {
    // v2 would OOM-kill instead of refusing; the spec asks to refuse like v1 does.
    const usage = d.number('memory.current');
    if (usage > limit) throw ctx.refuse('memory.limit', `new limit ${limit} is below the current usage ${usage}`);
  }
  if (swap !== 0) {
    let swapOnly: string;
    if (swap === -1) swapOnly = 'max';
    else if (limit === 0 || limit === -1) throw ctx.refuse('memory.swap', 'a swap limit needs a memory limit');
    else if (swap < limit) throw ctx.refuse('memory.swap', `memory+swap limit ${swap} must be at least the memory limit ${limit}`);
    else swapOnly = String(swap - limit);
    if (!d.has('memory.swap.max')) throw ctx.refuse('memory.swap', 'swap accounting is not enabled on this host');
    d.write('memory.swap.max', swapOnly);
  }
  if (limit !== 0) d.write('memory.max', max(limit));
  if (m.reservation !== undefined && m.reservation !== 0) d.write('memory.low', max(m.reservation));
  if (m.swappiness !== undefined && m.swappiness !== -1) throw ctx.refuse('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness');
  if (m.disableOOMKiller) throw ctx.refuse('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer');
  if (m.useHierarchy === false) throw ctx.refuse('memory.useHierarchy', 'cgroup v2 accounting is always hierarchical');
  if ((m.kernel ?? 0) !== 0 || (m.kernelTCP ?? 0) !== 0) {
    ctx.warn(`${ctx.field('memory.kernel')}/kernelTCP are ignored: cgroup v2 has no separate kernel memory limits`);
  }
}

export function cpuV2(d: CgroupDir, c: R<'cpu'>, ctx: ApplyContext): void {
  if (c.shares !== undefined && c.shares !== 0) {
    if (c.shares < 2 || c.shares > 262144) throw ctx.refuse('cpu.shares', `${c.shares} is out of range 2-262144`);
    d.write('cpu.weight', sharesToWeight(c.shares));
  }
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (quota !== 0 || period !== 0) {
    let value = quota > 0 ? String(quota) : 'max';
    if (period !== 0) value += ` ${period}`;
    d.write('cpu.max', value);
  }
  if (c.burst !== undefined) d.write('cpu.max.burst', c.burst);
  if ((c.realtimeRuntime ?? 0) !== 0 || (c.realtimePeriod ?? 0) !== 0) {
    throw ctx.refuse('cpu.realtimeRuntime', 'cgroup v2 has no realtime CPU bandwidth control');
  }
  if (c.idle !== undefined) d.write('cpu.idle', c.idle);
}

export function ioV2(d: CgroupDir, b: R<'blockIO'>, ctx: ApplyContext): void {
  // With BFQ the weight keeps the v1 range in io.bfq.weight; otherwise io.weight takes the converted value.
  const bfq = d.has('io.bfq.weight');
  const weight = (w: number): [string, number] => (bfq ? ['io.bfq.weight', w] : ['io.weight', blkioToIoWeight(w)]);
  if (b.weight !== undefined && b.weight !== 0) {
    const [file, value] = weight(b.weight);
    d.write(file, value);
  }
  if (b.leafWeight !== undefined && b.leafWeight !== 0) throw ctx.refuse('blockIO.leafWeight', 'cgroup v2 has no leaf weight');
  for (const w of b.weightDevice ?? []) {
    if (w.weight === undefined) continue;
    const [file, value] = weight(w.weight);
    d.write(file, `${deviceKey(w)} ${value}`);
  }
  for (const t of THROTTLES) for (const dev of b[t.field] ?? []) d.write('io.max', `${deviceKey(dev)} ${t.v2}=${dev.rate}`);
}

export function hugetlbV2(d: CgroupDir, limits: R<'hugepageLimits'>): void {
  for (const h of limits) d.write(`hugetlb.${h.pageSize}.max`, h.limit);
}

export function unifiedV2(d: CgroupDir, unified: R<'unified'>, ctx: ApplyContext): void {
  for (const [key, value] of Object.entries(unified)) {
    if (key.includes('/') || key.startsWith('.')) throw ctx.refuse(`unified.${key}`, 'not a cgroup file name');
    if (!d.has(key)) throw ctx.refuse(`unified.${key}`, `${d.file(key)} does not exist (is its controller enabled?)`);
    d.write(key, value);
  }
}
