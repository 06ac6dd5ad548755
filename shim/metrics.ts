// The runtime's cgroup statistics as containerd's cgroups Metrics message, which
// `ctr task metrics` and the CRI read: the v1 message from runc's `events --stats`
// shape (cgroups/stats.ts collectStats), the v2 one from a cgroup2 directory's own
// counters (unifiedStats), as containerd's runc shim follows the host's mode.
import type { CgroupManager, CgroupStats } from '../runtime/cgroups/manager.js';
import { probeHost } from '../runtime/cgroups/host.js';
import { unifiedStats } from '../runtime/cgroups/stats.js';
import { any, type Msg } from './proto.js';

type Obj = Record<string, unknown>;

/** memory.stat's names as the Metrics fields (pgpgin -> pg_pg_in), in protobufjs's camelCase. */
function memoryField(key: string): string {
  const snake = key.replace(/pgpg(in|out)/, 'pg_pg_$1').replace(/pg(maj)?fault/, (_m, maj: string | undefined) => (maj ? 'pg_maj_fault' : 'pg_fault'));
  return camel(snake);
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());
}

/** Counters (numbers or bigints) as uint64 strings, under protobufjs's camelCase names; fromObject drops names the message lacks. */
function counters(o: unknown): Msg {
  return Object.fromEntries(Object.entries((o as Obj) ?? {}).map(([k, v]) => [camel(k), String(v)]));
}

function entry(e: unknown): Msg | undefined {
  const o = e as Obj | undefined;
  return o && { limit: String(o.limit ?? 0), usage: String(o.usage ?? 0), max: String(o.max ?? 0), failcnt: String(o.failcnt ?? 0) };
}

function metricsOf(stats: CgroupStats): Msg {
  const out: Msg = {};
  const pids = stats.pids as Obj | undefined;
  if (pids) out.pids = { current: String(pids.current ?? 0), limit: String(pids.limit ?? 0) };
  const cpu = stats.cpu as { usage?: Obj; throttling?: Obj } | undefined;
  if (cpu?.usage) {
    const u = cpu.usage;
    const t = cpu.throttling ?? {};
    out.cpu = {
      usage: { total: String(u.total ?? 0), kernel: String(u.kernel ?? 0), user: String(u.user ?? 0), perCpu: ((u.percpu as unknown[]) ?? []).map(String) },
      throttling: { periods: String(t.periods ?? 0), throttledPeriods: String(t.throttledPeriods ?? 0), throttledTime: String(t.throttledTime ?? 0) },
    };
  }
  const mem = stats.memory as Obj | undefined;
  if (mem) {
    const m: Msg = {};
    for (const [k, v] of Object.entries((mem.raw as Obj) ?? {})) m[memoryField(k)] = String(v);
    Object.assign(m, { usage: entry(mem.usage), swap: entry(mem.swap), kernel: entry(mem.kernel), kernelTcp: entry(mem.kernelTCP) });
    out.memory = m;
  }
  const blkio = stats.blkio as Obj | undefined;
  if (blkio) {
    const list = (l: unknown) => ((l as Obj[]) ?? []).map((e) => ({ op: e.op, major: String(e.major), minor: String(e.minor), value: String(e.value) }));
    out.blkio = { ioServiceBytesRecursive: list(blkio.ioServiceBytesRecursive), ioServicedRecursive: list(blkio.ioServicedRecursive) };
  }
  return out;
}

/** unifiedStats (a cgroup2 directory's counters) as io.containerd.cgroups.v2.Metrics. */
function unifiedMetricsOf(stats: Obj): Msg {
  const events = stats.memory_events;
  return {
    pids: counters(stats.pids),
    cpu: counters(stats.cpu),
    memory: counters(stats.memory),
    memoryEvents: events && counters(events),
    io: { usage: ((stats.io as Obj[]) ?? []).map(counters) },
    hugetlb: ((stats.hugetlb as Obj[]) ?? []).map(counters),
  };
}

/** The Stats answer (a google.protobuf.Any): the v2 message on a pure cgroup2 host, the v1 one where v1 controllers are mounted. */
export async function cgroupMetrics(cg: CgroupManager): Promise<Msg> {
  const unified = cg.paths[''];
  if (probeHost().mode === 'unified' && unified) return any('io.containerd.cgroups.v2.Metrics', unifiedMetricsOf(unifiedStats(unified)));
  return any('io.containerd.cgroups.v1.Metrics', metricsOf(await cg.stats()));
}
