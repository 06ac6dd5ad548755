// Writing linux.resources to cgroup v1 controller directories, in the order and
// with the semantics runc uses (memory.swap is the memory+swap total, written to
// memory.memsw.limit_in_bytes; 0 leaves limits unset).
import type { ApplyContext, CgroupDir } from './apply-context.js';
import { deviceKey, THROTTLES } from './apply-context.js';
import type { Resources } from './types.js';
import { RockerError } from '../errors.js';

type R<K extends keyof Resources> = NonNullable<Resources[K]>;

/**
 * The kernel refuses (EBUSY) a limit below what the cgroup already uses; runc
 * reports that as "unable to set memory limit to N (current usage: …, peak usage: …)".
 */
function writeMemoryLimit(d: CgroupDir, file: 'memory.limit_in_bytes' | 'memory.memsw.limit_in_bytes', value: number): void {
  try {
    d.write(file, value);
  } catch (e) {
    if ((e as { context?: { code?: string } }).context?.code !== 'EBUSY') throw e;
    const prefix = file === 'memory.limit_in_bytes' ? 'memory' : 'memory.memsw';
    const what = file === 'memory.limit_in_bytes' ? 'memory' : 'memory+swap';
    throw new RockerError(
      `unable to set ${what} limit to ${value} (current usage: ${d.number(`${prefix}.usage_in_bytes`)}, peak usage: ${d.number(`${prefix}.max_usage_in_bytes`)})`,
      { path: d.file(file), code: 'EBUSY' },
    );
  }
}

export function memoryV1(d: CgroupDir, m: R<'memory'>, ctx: ApplyContext): void {
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const hasSwap = d.has('memory.memsw.limit_in_bytes');
  // Lifting the memory limit lifts memory+swap too, unless swap says otherwise.
  if (limit === -1 && swap === 0 && hasSwap) swap = -1;
  if (swap !== 0 && !hasSwap) {
    if (swap !== -1) throw ctx.refuse('memory.swap', 'swap accounting (memory.memsw.*) is not enabled on this host');
    swap = 0;
  }
  if (limit > 0 && swap > 0 && swap < limit) {
    throw ctx.refuse('memory.swap', `memory+swap limit ${swap} must be at least the memory limit ${limit}`);
  }
  if (limit !== 0 && swap !== 0) {
    // The kernel keeps memsw >= limit at every step, so the order depends on the current limit.
    const current = d.number('memory.limit_in_bytes');
    if (swap === -1 || current < swap) {
      writeMemoryLimit(d, 'memory.memsw.limit_in_bytes', swap);
      writeMemoryLimit(d, 'memory.limit_in_bytes', limit);
    } else {
      writeMemoryLimit(d, 'memory.limit_in_bytes', limit);
      writeMemoryLimit(d, 'memory.memsw.limit_in_bytes', swap);
    }
  } else {
    if (limit !== 0) writeMemoryLimit(d, 'memory.limit_in_bytes', limit);
    if (swap !== 0) writeMemoryLimit(d, 'memory.memsw.limit_in_bytes', swap);
  }
  if (m.reservation !== undefined && m.reservation !== 0) d.write('memory.soft_limit_in_bytes', m.reservation);
  if (m.kernel !== undefined && m.kernel !== 0) {
    ctx.warn(`${ctx.field('memory.kernel')} is ignored: kernel memory limits are deprecated and not enforced`);
  }
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) d.write('memory.kmem.tcp.limit_in_bytes', m.kernelTCP);
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) {
      throw ctx.refuse('memory.swappiness', `invalid value ${m.swappiness}: the valid range is 0-100`);
    }
    d.write('memory.swappiness', m.swappiness);
  }
  if (m.disableOOMKiller) d.write('memory.oom_control', 1);
  if (m.useHierarchy !== undefined) d.write('memory.use_hierarchy', m.useHierarchy ? 1 : 0);
}

export function cpuV1(d: CgroupDir, c: R<'cpu'>, ctx: ApplyContext): void {
  if (c.shares !== undefined && c.shares !== 0) {
    d.write('cpu.shares', c.shares);
    const got = d.number('cpu.shares');
    // The kernel clamps out-of-range shares silently; runc reports that as an error.
    if (got !== c.shares) throw ctx.refuse('cpu.shares', `${c.shares} is out of range: the kernel set ${got}`);
  }
  const quota = c.quota ?? 0;
  if (c.period !== undefined && c.period !== 0) {
    try {
      d.write('cpu.cfs_period_us', c.period);
    } catch (e) {
      // A shorter period can conflict with the current quota: set the quota first then.
      if ((e as { context?: { code?: string } }).context?.code !== 'EINVAL' || quota === 0) throw e;
      d.write('cpu.cfs_quota_us', quota);
      d.write('cpu.cfs_period_us', c.period);
    }
  }
  if (quota !== 0) d.write('cpu.cfs_quota_us', quota);
  if (c.burst !== undefined) d.write('cpu.cfs_burst_us', c.burst);
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) d.write('cpu.rt_period_us', c.realtimePeriod);
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) d.write('cpu.rt_runtime_us', c.realtimeRuntime);
  if (c.idle !== undefined) d.write('cpu.idle', c.idle);
}

export function cpusetWrite(d: CgroupDir, c: R<'cpu'>): void {
  if (c.cpus) d.write('cpuset.cpus', c.cpus);
  if (c.mems) d.write('cpuset.mems', c.mems);
}

/** pids.max is the same file on v1 and v2. */
export function pidsWrite(d: CgroupDir, p: R<'pids'>): void {
  // As runc: 0 leaves the limit as it is, a negative value lifts it.
  if (p.limit === undefined || p.limit === 0) return;
  d.write('pids.max', p.limit > 0 ? p.limit : 'max');
}

export function blkioV1(d: CgroupDir, b: R<'blockIO'>, ctx: ApplyContext): void {
  // CFQ exposes blkio.weight; with BFQ the files are blkio.bfq.weight*.
  const weightFile = d.has('blkio.weight') ? 'blkio.weight' : d.has('blkio.bfq.weight') ? 'blkio.bfq.weight' : undefined;
  const needWeight = (field: string): string => {
    if (!weightFile) throw ctx.refuse(field, 'this host has no blkio weight files (no CFQ/BFQ I/O scheduler)');
    return weightFile;
  };
  if (b.weight !== undefined && b.weight !== 0) d.write(needWeight('blockIO.weight'), b.weight);
  if (b.leafWeight !== undefined && b.leafWeight !== 0) {
    if (!d.has('blkio.leaf_weight')) throw ctx.refuse('blockIO.leafWeight', 'this host has no blkio.leaf_weight (CFQ only)');
    d.write('blkio.leaf_weight', b.leafWeight);
  }
  for (const [i, w] of (b.weightDevice ?? []).entries()) {
    if (w.weight !== undefined) d.write(`${needWeight(`blockIO.weightDevice[${i}]`)}_device`, `${deviceKey(w)} ${w.weight}`);
    if (w.leafWeight !== undefined) {
      if (!d.has('blkio.leaf_weight_device')) throw ctx.refuse(`blockIO.weightDevice[${i}].leafWeight`, 'this host has no blkio.leaf_weight_device');
      d.write('blkio.leaf_weight_device', `${deviceKey(w)} ${w.leafWeight}`);
    }
  }
  for (const t of THROTTLES) for (const dev of b[t.field] ?? []) d.write(t.v1, `${deviceKey(dev)} ${dev.rate}`);
}

export function hugetlbV1(d: CgroupDir, limits: R<'hugepageLimits'>): void {
  for (const h of limits) d.write(`hugetlb.${h.pageSize}.limit_in_bytes`, h.limit);
}

export function netClsV1(d: CgroupDir, classID: number): void {
  d.write('net_cls.classid', classID);
}

export function netPrioV1(d: CgroupDir, priorities: NonNullable<R<'network'>['priorities']>): void {
  for (const p of priorities) d.write('net_prio.ifpriomap', `${p.name} ${p.priority}`);
}

/** rdma.max has the same format on v1 and v2. */
export function rdmaWrite(d: CgroupDir, rdma: R<'rdma'>): void {
  for (const [dev, l] of Object.entries(rdma)) {
    const parts = [dev];
    if (l.hcaHandles !== undefined) parts.push(`hca_handle=${l.hcaHandles}`);
    if (l.hcaObjects !== undefined) parts.push(`hca_object=${l.hcaObjects}`);
    if (parts.length > 1) d.write('rdma.max', parts.join(' '));
  }
}
