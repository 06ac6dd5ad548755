// Routing linux.resources to the controllers that implement them. Each field
// group needs a controller; on a hybrid host a controller may be a v1 mount or
// only in the cgroup2 tree (as hugetlb is here), and the writer follows it.
// Everything is checked before anything is written, so a field the host cannot
// honour is refused with nothing created.
import type { ApplyContext, CgroupDir } from './apply-context.js';
import { attachDeviceFilter } from './device-bpf.js';
import { DEFAULT_DEVICE_RULES, devicesV1, splitAccess } from './devices.js';
import { blkioV1, cpusetWrite, cpuV1, hugetlbV1, memoryV1, netClsV1, netPrioV1, pidsWrite, rdmaWrite } from './resources-v1.js';
import { cpuV2, hugetlbV2, ioV2, memoryV2, unifiedV2 } from './resources-v2.js';
import type { Resources } from './types.js';

/** Where the controllers are: v1 directories by controller, and the cgroup2 directory with what it may enable. */
export interface ControllerHomes {
  v1(controller: string): CgroupDir | undefined;
  v2: CgroupDir | undefined;
  /** Controllers the cgroup2 tree offers (the root's cgroup.controllers). */
  v2Available: Set<string>;
  /** Huge page sizes the host has, as hugetlb file names spell them ("2MB", "1GB"). */
  hugePageSizes: string[];
}

interface Need {
  field: string;
  v1?: string;
  v2?: string;
}

const defined = (o: object | undefined, keys: string[]): boolean =>
  !!o && keys.some((k) => (o as Record<string, unknown>)[k] !== undefined);

function needs(r: Resources): Need[] {
  const out: Need[] = [];
  if (defined(r.memory, ['limit', 'reservation', 'swap', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy'])) {
    out.push({ field: 'memory', v1: 'memory', v2: 'memory' });
  }
  if (defined(r.cpu, ['shares', 'quota', 'period', 'burst', 'realtimeRuntime', 'realtimePeriod', 'idle'])) {
    out.push({ field: 'cpu', v1: 'cpu', v2: 'cpu' });
  }
  if (r.cpu?.cpus || r.cpu?.mems) out.push({ field: 'cpu.cpus', v1: 'cpuset', v2: 'cpuset' });
  if (r.pids?.limit !== undefined) out.push({ field: 'pids', v1: 'pids', v2: 'pids' });
  if (r.blockIO && Object.keys(r.blockIO).length) out.push({ field: 'blockIO', v1: 'blkio', v2: 'io' });
  if (r.hugepageLimits?.length) out.push({ field: 'hugepageLimits', v1: 'hugetlb', v2: 'hugetlb' });
  if (r.network?.classID !== undefined) out.push({ field: 'network.classID', v1: 'net_cls' });
  if (r.network?.priorities?.length) out.push({ field: 'network.priorities', v1: 'net_prio' });
  if (r.rdma && Object.keys(r.rdma).length) out.push({ field: 'rdma', v1: 'rdma', v2: 'rdma' });
  for (const key of Object.keys(r.unified ?? {})) {
    const ctrl = key.split('.')[0];
    out.push({ field: `unified.${key}`, v2: ctrl === 'cgroup' ? '' : ctrl });
  }
  return out;
}

export interface ResourcePlan {
  /** Field group -> where it is written. */
  route: Map<string, 'v1' | 'v2'>;
  /** cgroup2 controllers the container's cgroup needs enabled (subtree_control of its parents). */
  v2Controllers: Set<string>;
}

// runc's words for a unified key on a v1 controller (its integration tests look for "invalid configuration").
const V1_NO_UNIFIED = 'invalid configuration: cannot use unified on cgroup v1';

/** Decides where each set field goes; refuses a field no controller on this host can honour. */
export function planResources(r: Resources, homes: ControllerHomes, ctx: ApplyContext): ResourcePlan {
  const plan: ResourcePlan = { route: new Map(), v2Controllers: new Set() };
  for (const n of needs(r)) {
    if (n.v1 && homes.v1(n.v1)) {
      plan.route.set(n.field, 'v1');
    } else if (n.v2 !== undefined && homes.v2 && (n.v2 === '' || homes.v2Available.has(n.v2))) {
      plan.route.set(n.field, 'v2');
      if (n.v2) plan.v2Controllers.add(n.v2);
    } else if (n.field.startsWith('unified.') && !homes.v2) {
      throw ctx.refuse(n.field, `${V1_NO_UNIFIED}: unified (cgroup v2) resources need a cgroup2 hierarchy, and this host has only cgroup v1`);
    } else if (n.field.startsWith('unified.') && n.v2 && homes.v1(n.v2)) {
      throw ctx.refuse(n.field, `${V1_NO_UNIFIED}: ${n.v2} is a cgroup v1 controller on this host; unified keys reach only cgroup2 controllers (${[...homes.v2Available].join(', ') || 'none'})`);
    } else {
      const names = [n.v1 && `${n.v1} (v1)`, n.v2 && `${n.v2} (cgroup2)`].filter(Boolean).join(' or ');
      throw ctx.refuse(n.field, `the ${names} controller is not available on this host`);
    }
  }
  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    if (!homes.hugePageSizes.includes(h.pageSize)) {
      throw ctx.refuse(`hugepageLimits[${i}].pageSize`, `${JSON.stringify(h.pageSize)} is not a huge page size of this host (${homes.hugePageSizes.join(', ') || 'none'})`);
    }
  }
  return plan;
}

/** Writes every planned field; `devices` only when `withDevices` (create, not update, as runc). */
export function applyResources(r: Resources, plan: ResourcePlan, homes: ControllerHomes, ctx: ApplyContext): void {
  const at = (field: string, v1: string): { v1?: CgroupDir; v2?: CgroupDir } | undefined => {
    const where = plan.route.get(field);
    if (!where) return undefined;
    return where === 'v1' ? { v1: homes.v1(v1) } : { v2: homes.v2 };
  };
  const mem = at('memory', 'memory');
  if (mem?.v1) memoryV1(mem.v1, r.memory!, ctx);
  if (mem?.v2) memoryV2(mem.v2, r.memory!, ctx);
  const cpu = at('cpu', 'cpu');
  if (cpu?.v1) cpuV1(cpu.v1, r.cpu!, ctx);
  if (cpu?.v2) cpuV2(cpu.v2, r.cpu!, ctx);
  const cpuset = at('cpu.cpus', 'cpuset');
  if (cpuset) cpusetWrite((cpuset.v1 ?? cpuset.v2)!, r.cpu!);
  const pids = at('pids', 'pids');
  if (pids) pidsWrite((pids.v1 ?? pids.v2)!, r.pids!);
  const io = at('blockIO', 'blkio');
  if (io?.v1) blkioV1(io.v1, r.blockIO!, ctx);
  if (io?.v2) ioV2(io.v2, r.blockIO!, ctx);
  const huge = at('hugepageLimits', 'hugetlb');
  if (huge?.v1) hugetlbV1(huge.v1, r.hugepageLimits!);
  if (huge?.v2) hugetlbV2(huge.v2, r.hugepageLimits!);
  const cls = at('network.classID', 'net_cls');
  if (cls?.v1) netClsV1(cls.v1, r.network!.classID!);
  const prio = at('network.priorities', 'net_prio');
  if (prio?.v1) netPrioV1(prio.v1, r.network!.priorities!);
  const rdma = at('rdma', 'rdma');
  if (rdma) rdmaWrite((rdma.v1 ?? rdma.v2)!, r.rdma!);
  if (r.unified && Object.keys(r.unified).length && homes.v2) unifiedV2(homes.v2, r.unified, ctx);
}

/** Device rules (with the runtime's defaults after them): the v1 devices controller, else a cgroup2 device program. */
export function applyDevices(r: Resources, homes: ControllerHomes, ctx: ApplyContext): void {
  if (!r.devices) return;
  const own = r.devices.map((d, i) => {
    const { known, other } = splitAccess(d.access);
    if (other) ctx.warn(`${ctx.field(`devices[${i}].access`)}: ignoring ${JSON.stringify(other)} in ${JSON.stringify(d.access)} (device access is a combination of r, w and m)`);
    return { ...d, access: known };
  });
  const rules = [...own, ...DEFAULT_DEVICE_RULES];
  const dev = homes.v1('devices');
  if (dev) devicesV1(dev, rules);
  else if (homes.v2) attachDeviceFilter(homes.v2.dir, rules);
  else throw ctx.refuse('devices', 'this host has neither a v1 devices controller nor cgroup2');
}
