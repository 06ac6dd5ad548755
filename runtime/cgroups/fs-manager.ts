// The cgroupfs manager for v1, hybrid and unified hosts alike: the container has
// one directory per mounted v1 hierarchy (keyed by controller, as runc keeps
// them) plus one in the cgroup2 tree ("" key) when there is one. Each resource
// goes to whichever of those implements it on this host (see resources.ts).
import { existsSync, mkdirSync, readdirSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RockerError } from '../errors.js';
import type { CgroupManager, CgroupStats } from './manager.js';
import { ApplyContext, CgroupDir } from './apply-context.js';
import { cgroupError, readOptional, readPids, tryRmdir, writeCgroupFile } from './cgfs.js';
import { hostHugePageSizes, probeHost, unifiedControllers } from './host.js';
import { applyDevices, applyResources, planResources, type ControllerHomes } from './resources.js';
import { collectStats } from './stats.js';
import { isFrozenAt } from './frozen.js';
import type { Resources, Warn } from './types.js';

/** Where resources came from, for errors naming the field: config.json's linux.resources by default. */
export interface ResourceSource {
  file: string;
  /** JSON path of the resources object within `file` ("" when the file is the resources object). */
  prefix: string;
}

const CONFIG_SOURCE: ResourceSource = { file: 'config.json', prefix: 'linux.resources' };

// How long a freeze may take to settle before it is undone and reported.
const FREEZE_TIMEOUT_MS = 4000;

// Hierarchies whose pid lists are read for pids(), in order of preference.
const PID_KEYS = ['pids', 'freezer', 'memory', 'cpu', ''];

export class FsCgroupManager implements CgroupManager {
  /** Directories this instance created, parents first. */
  private readonly created: string[] = [];
  /** create() found other processes in the cgroup: they are not this container's to kill. */
  shared = false;

  constructor(
    readonly paths: Record<string, string>,
    private readonly warn: Warn = () => {},
  ) {}

  private dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  private homes(): ControllerHomes {
    const host = probeHost();
    const v2 = this.paths[''];
    return {
      v1: (c) => (c in this.paths && c !== '' ? new CgroupDir(this.paths[c]) : undefined),
      v2: v2 ? new CgroupDir(v2) : undefined,
      v2Available: host.unified ? unifiedControllers(host.unified.mountpoint) : new Set(),
      hugePageSizes: hostHugePageSizes(),
    };
  }

  /** The mount point a directory of ours lives under. */
  private mountOf(dir: string): string {
    const host = probeHost();
    if (dir === this.paths[''] && host.unified) return host.unified.mountpoint;
    for (const h of host.v1.values()) if (dir.startsWith(h.mountpoint + '/')) return h.mountpoint;
    throw new RockerError(`cgroup directory ${dir} is not under a cgroup mount`);
  }

  async create(resources: Resources | undefined, source: ResourceSource = CONFIG_SOURCE): Promise<void> {
    const r = resources ?? {};
    const homes = this.homes();
    const ctx = new ApplyContext(source.file, source.prefix, this.warn);
    const plan = planResources(r, homes, ctx);
    // existsSync first: a new container's cgroups do not exist yet, and a failed read costs an exception.
    const others = new Set(this.dirs().flatMap((dir) => (existsSync(dir) ? readPids(join(dir, 'cgroup.procs')) : [])));
    if (others.size > 0) {
      // runc 1.1 warns and goes on (and a cgroup shared on purpose is what some users do).
      this.warn(`container's cgroup is not empty: ${others.size} process(es) found`);
      this.shared = true;
    }
    // A process placed in a frozen cgroup would hang the create (runc refuses it too).
    if (isFrozenAt(this.paths)) throw new RockerError("container's cgroup unexpectedly frozen", { paths: this.paths });
    try {
      for (const dir of this.dirs()) this.mkdirs(dir);
      if (this.paths.cpuset) this.inheritCpuset(this.paths.cpuset);
      this.enableV2(homes.v2Available, plan.v2Controllers);
      applyResources(r, plan, homes, ctx);
      applyDevices(r, homes, ctx);
    } catch (e) {
      await this.removeCreated();
      throw e;
    }
  }

  /**
   * mkdir -p, remembering each level made here. A parent that another runtime
   * removes meanwhile (its failed create cleaning up) makes the walk start over.
   */
  private mkdirs(dir: string): void {
    const mount = this.mountOf(dir);
    for (let attempt = 1; ; attempt++) {
      let cur = mount;
      try {
        for (const part of dir.slice(mount.length + 1).split('/')) {
          cur = join(cur, part);
          try {
            mkdirSync(cur);
            this.created.push(cur);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          }
        }
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw cgroupError('mkdir', cur, e);
      }
    }
  }

  /** A new v1 cpuset starts with no cpus and mems; each level takes its parent's. */
  private inheritCpuset(leaf: string): void {
    const mount = this.mountOf(leaf);
    const levels: string[] = [];
    for (let d = leaf; d !== mount; d = dirname(d)) levels.unshift(d);
    for (const d of levels) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if ((readOptional(join(d, f)) ?? '').trim() === '') {
          writeCgroupFile(join(d, f), (readOptional(join(dirname(d), f)) ?? '').trim());
        }
      }
    }
  }

  /**
   * Enables in subtree_control, from the root down to the container's parent,
   * every controller the cgroup2 root offers, as runc and crun do: the container's
   * cgroup then always has pids.max, memory.events and the rest, limited or not
   * (engines read them for stats and OOM events). Only a controller `required`
   * (one the resources write to) must succeed; others may be refused (a parent
   * with processes of its own, a threaded subtree) and are left off.
   */
  private enableV2(available: Set<string>, required: Set<string>): void {
    const leaf = this.paths[''];
    if (!leaf || available.size === 0) return;
    const mount = this.mountOf(leaf);
    const parents: string[] = [];
    for (let d = dirname(leaf); d.startsWith(mount); d = dirname(d)) {
      parents.unshift(d);
      if (d === mount) break;
    }
    for (const d of parents) {
      const file = join(d, 'cgroup.subtree_control');
      const on = new Set((readOptional(file) ?? '').trim().split(/\s+/));
      for (const c of available) {
        if (on.has(c)) continue;
        try {
          writeCgroupFile(file, `+${c}`);
        } catch (e) {
          if (required.has(c)) throw e;
        }
      }
    }
  }

  async update(resources: Resources, source: ResourceSource = CONFIG_SOURCE): Promise<void> {
    const homes = this.homes();
    const ctx = new ApplyContext(source.file, source.prefix, this.warn);
    const plan = planResources(resources, homes, ctx);
    this.enableV2(homes.v2Available, plan.v2Controllers);
    applyResources(resources, plan, homes, ctx);
  }

  async freeze(): Promise<void> {
    await this.setFrozen(true);
  }

  async thaw(): Promise<void> {
    await this.setFrozen(false);
  }

  private async setFrozen(frozen: boolean): Promise<void> {
    if (this.paths.freezer) await this.setFrozenV1(join(this.paths.freezer, 'freezer.state'), frozen);
    else await this.setFrozenV2(this.paths[''], frozen);
  }

  /**
   * The v1 freezer passes through FREEZING while tasks stop and offers no
   * notification; as the kernel documentation advises, the write is repeated
   * (with a short, growing pause) until freezer.state reads back.
   */
  private async setFrozenV1(file: string, frozen: boolean): Promise<void> {
    const value = frozen ? 'FROZEN' : 'THAWED';
    for (let i = 0; i < 200; i++) {
      writeCgroupFile(file, value);
      if ((readOptional(file) ?? '').trim() === value) return;
      await sleep(Math.min(1 + i, 20));
    }
    if (frozen) writeCgroupFile(file, 'THAWED');
    throw new RockerError(`unable to ${frozen ? 'freeze' : 'thaw'} cgroup: ${file} did not settle`, { path: file });
  }

  /** cgroup2 reports the settled state in cgroup.events, which raises inotify events: watched, not polled. */
  private async setFrozenV2(dir: string, frozen: boolean): Promise<void> {
    const events = join(dir, 'cgroup.events');
    const settled = (): boolean => (readOptional(events) ?? '').includes(`frozen ${frozen ? 1 : 0}`);
    await new Promise<void>((resolve, reject) => {
      // Watching starts before the write, so the change cannot be missed.
      const watcher = watch(events, () => {
        if (settled()) finish();
      });
      const timer = setTimeout(finish, FREEZE_TIMEOUT_MS);
      function finish(): void {
        clearTimeout(timer);
        watcher.close();
        resolve();
      }
      try {
        writeCgroupFile(join(dir, 'cgroup.freeze'), frozen ? 1 : 0);
      } catch (e) {
        finish();
        reject(e);
        return;
      }
      if (settled()) finish();
    });
    if (!settled()) {
      if (frozen) writeCgroupFile(join(dir, 'cgroup.freeze'), 0);
      throw new RockerError(`unable to ${frozen ? 'freeze' : 'thaw'} cgroup ${dir}: cgroup.events did not report it`, { path: dir });
    }
  }

  async isFrozen(): Promise<boolean> {
    return isFrozenAt(this.paths);
  }

  async pids(): Promise<number[]> {
    const key = PID_KEYS.find((k) => k in this.paths) ?? Object.keys(this.paths)[0];
    if (key === undefined) return [];
    const out = new Set<number>();
    const walk = (dir: string): void => {
      for (const p of readPids(join(dir, 'cgroup.procs'))) out.add(p);
      for (const sub of subdirs(dir)) walk(join(dir, sub));
    };
    walk(this.paths[key]);
    return [...out];
  }

  async stats(): Promise<CgroupStats> {
    return collectStats(this.paths);
  }

  async destroy(): Promise<void> {
    // Killed tasks of a frozen cgroup only exit once thawed (delete --force of a paused container).
    if (await this.isFrozen().catch(() => false)) await this.thaw();
    for (const dir of this.dirs()) await removeTree(dir);
    await this.removeCreated();
  }

  /** Removes the directories create() made, deepest first; a parent another container now uses stays. */
  private async removeCreated(): Promise<void> {
    for (const dir of [...this.created].reverse()) {
      try {
        await removeDir(dir);
      } catch (e) {
        const code = (e as RockerError).context?.code;
        if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw e;
      }
    }
    this.created.length = 0;
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** rmdir, retried briefly while exiting tasks still hold the cgroup (EBUSY). */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const refused = tryRmdir(dir);
    if (!refused) return;
    if (refused.code !== 'EBUSY' || attempt >= 10) throw cgroupError('rmdir', dir, refused);
    await sleep(5 * (attempt + 1));
  }
}

/**
 * Removes a cgroup and any cgroups the container made inside it, deepest first.
 * A leaf (the usual case) is one rmdir; only a refused one is listed.
 */
async function removeTree(dir: string): Promise<void> {
  if (!tryRmdir(dir)) return;
  for (const sub of subdirs(dir)) await removeTree(join(dir, sub));
  await removeDir(dir);
}
