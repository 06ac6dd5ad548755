// Statistics of a container's cgroup, shaped like runc's `events` "data" object
// (cpu, memory, pids, blkio, hugetlb). Each controller is read from its v1
// directory when it has one, otherwise from the cgroup2 directory.
import { join } from 'node:path';
import { hostHugePageSizes } from './host.js';
import { readKeyValues, readNumber, readOptional, toCounter, type Counter } from './cgfs.js';

// cpuacct.stat counts USER_HZ ticks; Linux fixes USER_HZ at 100.
const NS_PER_TICK = 1e9 / 100;

// What runc reports for a cgroup2 "max" (no limit): uint64's max.
const UINT64_MAX = 18446744073709551615n;

type Paths = Record<string, string>;

function addCounters(a: Counter, b: Counter): Counter {
  return toCounter(String(BigInt(a) + BigInt(b)));
}
type Obj = Record<string, unknown>;

function cpuStats(paths: Paths): Obj | undefined {
  const acct = paths.cpuacct;
  const cpu = paths.cpu;
  const v2 = paths[''];
  if (acct) {
    const percpu = (readOptional(join(acct, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter(Boolean).map(toCounter);
    const st = readKeyValues(join(acct, 'cpuacct.stat'));
    const usage: Obj = {
      total: readNumber(join(acct, 'cpuacct.usage')),
      percpu,
      kernel: Number(st.system ?? 0) * NS_PER_TICK,
      user: Number(st.user ?? 0) * NS_PER_TICK,
    };
    const t = cpu ? readKeyValues(join(cpu, 'cpu.stat')) : {};
    return {
      usage,
      throttling: { periods: t.nr_periods ?? 0, throttledPeriods: t.nr_throttled ?? 0, throttledTime: t.throttled_time ?? 0 },
    };
  }
  if (!v2) return undefined;
  const s = readKeyValues(join(v2, 'cpu.stat'));
  return {
    usage: { total: Number(s.usage_usec ?? 0) * 1000, percpu: [], kernel: Number(s.system_usec ?? 0) * 1000, user: Number(s.user_usec ?? 0) * 1000 },
    throttling: { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledTime: Number(s.throttled_usec ?? 0) * 1000 },
  };
}

function memEntryV1(dir: string, prefix: string): Obj {
  return {
    limit: readNumber(join(dir, `${prefix}.limit_in_bytes`)),
    usage: readNumber(join(dir, `${prefix}.usage_in_bytes`)),
    max: readNumber(join(dir, `${prefix}.max_usage_in_bytes`)),
    failcnt: readNumber(join(dir, `${prefix}.failcnt`)),
  };
}

function memoryStats(paths: Paths): Obj | undefined {
  const v1 = paths.memory;
  if (v1) {
    const raw = readKeyValues(join(v1, 'memory.stat'));
    return {
      cache: raw.total_cache ?? raw.cache ?? 0,
      usage: memEntryV1(v1, 'memory'),
      swap: memEntryV1(v1, 'memory.memsw'),
      kernel: memEntryV1(v1, 'memory.kmem'),
      kernelTCP: memEntryV1(v1, 'memory.kmem.tcp'),
      raw,
    };
  }
  const v2 = paths[''];
  if (!v2 || readOptional(join(v2, 'memory.current')) === undefined) return undefined;
  const raw = readKeyValues(join(v2, 'memory.stat'));
  const events = readKeyValues(join(v2, 'memory.events'));
  const usage = { limit: readNumber(join(v2, 'memory.max'), UINT64_MAX), usage: readNumber(join(v2, 'memory.current')), max: readNumber(join(v2, 'memory.peak')), failcnt: events.max ?? 0 };
  // As runc: swap as v1's memory+swap (usage and limit include memory's), "max" as uint64's max.
  const hasSwap = readOptional(join(v2, 'memory.swap.current')) !== undefined;
  const swapLimit = hasSwap ? readNumber(join(v2, 'memory.swap.max'), UINT64_MAX) : 0;
  const swap = {
    limit: swapLimit === UINT64_MAX || usage.limit === UINT64_MAX ? UINT64_MAX : addCounters(swapLimit, usage.limit),
    usage: addCounters(hasSwap ? readNumber(join(v2, 'memory.swap.current')) : 0, usage.usage),
    max: readNumber(join(v2, 'memory.swap.peak')),
    failcnt: 0,
  };
  // cgroup2 has no separate kernel memory accounting: runc reports these entries as zero.
  const none = { limit: 0, usage: 0, max: 0, failcnt: 0 };
  return { cache: raw.file ?? 0, usage, swap, kernel: none, kernelTCP: none, raw };
}

function pidsStats(paths: Paths): Obj | undefined {
  const dir = paths.pids ?? paths[''];
  if (!dir || readOptional(join(dir, 'pids.current')) === undefined) return undefined;
  return { current: readNumber(join(dir, 'pids.current')), limit: readNumber(join(dir, 'pids.max')) };
}

/** "8:0 Read 4096" lines (v1) -> runc's blkio entries. */
function blkioEntriesV1(text: string | undefined): Obj[] {
  const out: Obj[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

function blkioStats(paths: Paths): Obj {
  const v1 = paths.blkio;
  if (v1) {
    // CFQ, BFQ and the throttle layer each keep their own counters; the first present wins.
    const pick = (kind: string): string | undefined =>
      [`blkio.${kind}_recursive`, `blkio.bfq.${kind}_recursive`, `blkio.throttle.${kind}_recursive`]
        .map((f) => readOptional(join(v1, f)))
        .find((t) => t !== undefined && t.trim() !== '' && t.trim() !== 'Total 0');
    return {
      ioServiceBytesRecursive: blkioEntriesV1(pick('io_service_bytes')),
      ioServicedRecursive: blkioEntriesV1(pick('io_serviced')),
    };
  }
  const v2 = paths[''];
  const bytes: Obj[] = [];
  const ios: Obj[] = [];
  for (const { major, minor, rbytes, wbytes, rios, wios } of v2 ? ioStat(v2) : []) {
    const d = { major, minor };
    bytes.push({ ...d, op: 'Read', value: rbytes }, { ...d, op: 'Write', value: wbytes });
    ios.push({ ...d, op: 'Read', value: rios }, { ...d, op: 'Write', value: wios });
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}

interface IoEntry {
  major: number;
  minor: number;
  rbytes: Counter;
  wbytes: Counter;
  rios: Counter;
  wios: Counter;
}

/** A cgroup2 io.stat ("8:0 rbytes=4096 wbytes=0 rios=1 ..." lines), one entry per device. */
function ioStat(dir: string): IoEntry[] {
  const out: IoEntry[] = [];
  for (const line of (readOptional(join(dir, 'io.stat')) ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f: Record<string, Counter> = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, v]) => [k, toCounter(v ?? '0')]));
    out.push({ major: Number(m[1]), minor: Number(m[2]), rbytes: f.rbytes ?? 0, wbytes: f.wbytes ?? 0, rios: f.rios ?? 0, wios: f.wios ?? 0 });
  }
  return out;
}

function hugetlbStats(paths: Paths): Obj {
  const out: Obj = {};
  for (const size of hostHugePageSizes()) {
    const v1 = paths.hugetlb;
    if (v1) {
      out[size] = {
        usage: readNumber(join(v1, `hugetlb.${size}.usage_in_bytes`)),
        max: readNumber(join(v1, `hugetlb.${size}.max_usage_in_bytes`)),
        failcnt: readNumber(join(v1, `hugetlb.${size}.failcnt`)),
      };
    } else if (paths[''] && readOptional(join(paths[''], `hugetlb.${size}.current`)) !== undefined) {
      const v2 = paths[''];
      out[size] = {
        usage: readNumber(join(v2, `hugetlb.${size}.current`)),
        max: readNumber(join(v2, `hugetlb.${size}.max`)),
        failcnt: readKeyValues(join(v2, `hugetlb.${size}.events`)).max ?? 0,
      };
    }
  }
  return out;
}

export function collectStats(paths: Paths): Obj {
  const out: Obj = {};
  const cpu = cpuStats(paths);
  if (cpu) out.cpu = cpu;
  const memory = memoryStats(paths);
  if (memory) out.memory = memory;
  const pids = pidsStats(paths);
  if (pids) out.pids = pids;
  out.blkio = blkioStats(paths);
  out.hugetlb = hugetlbStats(paths);
  return out;
}

/**
 * A cgroup2 directory's own counters as the kernel names them (containerd's
 * cgroups v2 Metrics carries them so, where runc's `events` shape above folds
 * them into v1's): cpu.stat, memory.stat, memory.events, the single-value
 * files ("max" as uint64's max, a missing file as 0), io.stat, hugetlb.
 */
export function unifiedStats(dir: string): Obj {
  const value = (file: string): Counter => readNumber(join(dir, file), UINT64_MAX);
  const hugetlb = hostHugePageSizes()
    .filter((size) => readOptional(join(dir, `hugetlb.${size}.current`)) !== undefined)
    .map((size) => ({ pagesize: size, current: value(`hugetlb.${size}.current`), max: value(`hugetlb.${size}.max`) }));
  return {
    pids: { current: value('pids.current'), limit: value('pids.max') },
    cpu: readKeyValues(join(dir, 'cpu.stat')),
    memory: {
      ...readKeyValues(join(dir, 'memory.stat')),
      usage: value('memory.current'),
      usage_limit: value('memory.max'),
      swap_usage: value('memory.swap.current'),
      swap_limit: value('memory.swap.max'),
    },
    memory_events: readOptional(join(dir, 'memory.events')) === undefined ? undefined : readKeyValues(join(dir, 'memory.events')),
    io: ioStat(dir),
    hugetlb,
  };
}

/** How many times the OOM killer has killed in the cgroup (v1 memory.oom_control, v2 memory.events). */
export function oomKillCount(paths: Paths): number {
  const v1 = paths.memory;
  const kv = v1 ? readKeyValues(join(v1, 'memory.oom_control')) : paths[''] ? readKeyValues(join(paths[''], 'memory.events')) : {};
  return Number(kv.oom_kill ?? 0);
}

/**
 * When a container's init died while joining its cgroups because the OOM
 * killer ended it (a memory limit below what even the init needs), the
 * refusal in runc's words; undefined when the OOM killer was not why.
 * `limit` is the configured one (the kernel rounds it down to pages).
 */
export function memoryLimitRefusal(paths: Paths, limit: unknown): string | undefined {
  if (oomKillCount(paths) === 0) return undefined;
  const m = memoryStats(paths)?.usage as { limit?: number; usage?: number; max?: number } | undefined;
  if (!m) return undefined;
  return `unable to set memory limit to ${limit ?? m.limit} (current usage: ${m.usage}, peak usage: ${m.max}): the kernel's OOM killer ended the container's init as it joined its cgroup`;
}

/** runc's network_interfaces entries for the interfaces (but lo) in `pid`'s network namespace. */
export function networkInterfaces(pid: number): Obj[] {
  const out: Obj[] = [];
  // Header lines first; then "name: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs drop ...".
  for (const line of (readOptional(`/proc/${pid}/net/dev`) ?? '').split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(toCounter);
    if (name === 'lo' || f.length < 12) continue;
    out.push({
      name,
      rx_bytes: f[0],
      rx_packets: f[1],
      rx_errors: f[2],
      rx_dropped: f[3],
      tx_bytes: f[8],
      tx_packets: f[9],
      tx_errors: f[10],
      tx_dropped: f[11],
    });
  }
  return out;
}
