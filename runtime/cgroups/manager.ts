// The seam between the container lifecycle and the cgroup managers (v1, v2,
// hybrid). The lifecycle only ever talks to a CgroupManager; cgroups/ picks the
// implementation by probing the host.

/** linux.resources as the runtime spec defines it (fields are optional). */
export type LinuxResources = Record<string, unknown>;

export interface CgroupStats {
  /** Shaped like runc's `events --stats` "data" object: cpu, memory, pids, blkio, hugetlb, network... */
  [controller: string]: unknown;
}

export interface CgroupManager {
  /** The host paths this container's cgroup has, by controller ("" key for v2). Kept in state.json. */
  readonly paths: Record<string, string>;
  /** Creates the cgroup dirs and writes `resources`; refuses an escaping path or a frozen cgroup, warns of a non-empty one. */
  create(resources: LinuxResources | undefined): Promise<void>;
  /** Applies an update (runc update / --resources). */
  update(resources: LinuxResources): Promise<void>;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** 'paused' when frozen. */
  isFrozen(): Promise<boolean>;
  /** Host pids of every process in the cgroup. */
  pids(): Promise<number[]>;
  stats(): Promise<CgroupStats>;
  /** Removes the dirs create() made (and nothing else). Processes must be gone. */
  destroy(): Promise<void>;
}

export interface CgroupJoinTargets {
  v1: string[];
  unified?: string;
}

export interface CgroupRequest {
  id: string;
  /** linux.cgroupsPath from config.json, if any. */
  cgroupsPath?: string;
  /** --systemd-cgroup: cgroupsPath is `slice:prefix:name`. */
  systemd: boolean;
}
