// state.json: everything later commands need about one container. It is
// written whole to a temporary name and renamed, so a reader never sees half;
// a file broken all the same (disk trouble, a hand edit) is refused with a
// StateFileError naming the file and what is wrong with it.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { NotFoundError, StateFileError, SystemError } from '../errors.js';
import type { OciConfig } from '../spec/types.js';
import type { ContainerDir } from './container-dir.js';

export interface ContainerState {
  id: string;
  /** Host pid of the container init; 0 until nsexec reported it. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the init was created. */
  pidStartTime: number;
  bundle: string;
  /** Absolute rootfs path. */
  rootfs: string;
  /** RFC 3339 creation time. */
  created: string;
  owner: string;
  /** Host cgroup paths by controller, as CgroupManager.paths reports them. */
  cgroupPaths: Record<string, string>;
  /**
   * The cgroups create is about to make, recorded before the first mkdir so that a
   * runtime killed meanwhile leaves nothing `delete --force` cannot find. Until they
   * move to cgroupPaths they are only ever removed when empty, never swept: the
   * directory may be someone else's populated cgroup that create refused.
   */
  newCgroupPaths?: Record<string, string>;
  /** create found other processes in the cgroup: teardown kills only the init, and keeps a cgroup still in use. */
  sharedCgroup?: boolean;
  /** The validated config.json (exec bases its process on it; delete runs its poststop hooks). */
  config: OciConfig;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPathMap = (v: unknown): boolean => isObject(v) && Object.values(v as object).every((p) => typeof p === 'string' && p.startsWith('/'));

/** What each field must hold, and what `expected` says when it does not. */
const FIELDS: Record<keyof ContainerState, { ok: (v: unknown) => boolean; expected: string; optional?: boolean }> = {
  id: { ok: isString, expected: 'a string' },
  pid: { ok: isCount, expected: 'a non-negative integer' },
  pidStartTime: { ok: isCount, expected: 'a non-negative integer' },
  bundle: { ok: isString, expected: 'a string' },
  rootfs: { ok: isString, expected: 'a string' },
  created: { ok: isString, expected: 'a string' },
  owner: { ok: isString, expected: 'a string' },
  cgroupPaths: { ok: isPathMap, expected: 'an object of absolute paths' },
  newCgroupPaths: { ok: isPathMap, expected: 'an object of absolute paths', optional: true },
  sharedCgroup: { ok: (v) => typeof v === 'boolean', expected: 'a boolean', optional: true },
  config: { ok: isObject, expected: 'an object' },
};

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v) ?? String(v);
  return `got ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}

/** The problem with `raw` as the state of container `id`, or undefined when it is sound. */
function problem(raw: unknown, id: string): string | undefined {
  if (!isObject(raw)) return `is ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`}, not a JSON object`;
  const o = raw as Record<string, unknown>;
  for (const [name, f] of Object.entries(FIELDS)) {
    if (f.optional && o[name] === undefined) continue;
    if (!f.ok(o[name])) return `field "${name}" must be ${f.expected}, ${describe(o[name])}`;
  }
  if (o.id !== id) return `field "id" is ${JSON.stringify(o.id)}, but the directory is ${JSON.stringify(id)}`;
  return undefined;
}

export function readState(cd: ContainerDir): ContainerState {
  let text: string;
  try {
    text = readFileSync(cd.stateFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(cd.id);
    throw new SystemError('read', cd.stateFile, e as Error);
  }
  if (text.trim() === '') throw new StateFileError(cd.stateFile, 'is empty', {});
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StateFileError(cd.stateFile, `is not valid JSON: ${(e as Error).message}`, {});
  }
  const wrong = problem(raw, cd.id);
  if (wrong) throw new StateFileError(cd.stateFile, wrong, isObject(raw) ? (raw as Record<string, unknown>) : {});
  return raw as ContainerState;
}

/**
 * A usable state built from what a broken state.json still holds: each field that
 * has the right shape is kept, any other takes its "nothing known" value.
 */
export function salvageState(id: string, salvage: Record<string, unknown>): ContainerState {
  const keep = <K extends keyof ContainerState>(name: K, fallback: ContainerState[K]): ContainerState[K] =>
    FIELDS[name].ok(salvage[name]) ? (salvage[name] as ContainerState[K]) : fallback;
  return {
    id,
    pid: keep('pid', 0),
    pidStartTime: keep('pidStartTime', 0),
    bundle: keep('bundle', ''),
    rootfs: keep('rootfs', ''),
    created: keep('created', ''),
    owner: keep('owner', ''),
    cgroupPaths: keep('cgroupPaths', {}),
    newCgroupPaths: keep('newCgroupPaths', undefined),
    sharedCgroup: keep('sharedCgroup', undefined),
    config: keep('config', {} as OciConfig),
  };
}

/** Writes `path` whole (a temporary name renamed over it): a reader sees the old file or the new one. */
export function replaceFile(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

export function writeState(cd: ContainerDir, st: ContainerState): void {
  replaceFile(cd.stateFile, JSON.stringify(st));
}
