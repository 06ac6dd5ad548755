// Where a container's cgroup lives within each hierarchy, from linux.cgroupsPath:
//  - absolute "/a/b": relative to the hierarchy's root;
//  - relative "a/b": relative to the runtime's own cgroup in that hierarchy;
//  - unset: /rocker/<id>;
//  - with --systemd-cgroup, "slice:prefix:name": the path systemd would give the
//    scope, i.e. the expanded slice then "<prefix>-<name>.scope", used as an
//    absolute path (no systemd runs here, so it is created on cgroupfs directly).
import { posix } from 'node:path';
import { SpecError } from '../errors.js';

const WHERE = 'config.json';
const FIELD = 'linux.cgroupsPath';

function invalid(detail: string): SpecError {
  return new SpecError(WHERE, FIELD, detail);
}

/** "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root. */
export function expandSlice(slice: string): string {
  if (!slice.endsWith('.slice') || slice.includes('/')) throw invalid(`invalid slice name ${JSON.stringify(slice)}`);
  const stem = slice.slice(0, -'.slice'.length);
  if (stem === '-') return '/';
  const parts = stem.split('-');
  if (parts.some((p) => p === '')) throw invalid(`invalid slice name ${JSON.stringify(slice)}`);
  let path = '';
  let prefix = '';
  for (const p of parts) {
    prefix = prefix ? `${prefix}-${p}` : p;
    path += `/${prefix}.slice`;
  }
  return path;
}

/** The cgroupfs path a "slice:prefix:name" cgroupsPath maps to. */
export function systemdPath(value: string): string {
  const parts = value.split(':');
  if (parts.length !== 3) {
    throw invalid(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(value)}`);
  }
  const [slice, prefix, name] = parts;
  if (!name || name.includes('/') || prefix.includes('/')) throw invalid(`invalid systemd unit name in ${JSON.stringify(value)}`);
  const unit = name.endsWith('.slice') ? name : prefix ? `${prefix}-${name}.scope` : `${name}.scope`;
  const parent = expandSlice(slice || 'system.slice');
  return posix.join(parent, unit);
}

/** Normalizes `p` (no leading "/"), refusing a ".." that climbs above its start. */
function normalizeInside(p: string, original: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) throw invalid(`${JSON.stringify(original)} escapes the cgroup root`);
      out.pop();
    } else {
      out.push(seg);
    }
  }
  return out.join('/');
}

export interface CgroupPlacement {
  /** The path for hierarchies: absolute, or relative to the runtime's own cgroup. */
  path: string;
  relative: boolean;
}

/** Interprets linux.cgroupsPath (validated; no filesystem access). */
export function placement(id: string, cgroupsPath: string | undefined, systemd: boolean): CgroupPlacement {
  if (systemd) {
    return { path: systemdPath(cgroupsPath || `system.slice:rocker:${id}`), relative: false };
  }
  if (cgroupsPath === undefined || cgroupsPath === '') return { path: `/rocker/${id}`, relative: false };
  const relative = !cgroupsPath.startsWith('/');
  const inner = normalizeInside(cgroupsPath, cgroupsPath);
  if (inner === '') throw invalid(`${JSON.stringify(cgroupsPath)} names the ${relative ? "runtime's own" : 'root'} cgroup`);
  return { path: relative ? inner : `/${inner}`, relative };
}

/** The container's path within one hierarchy, given the runtime's own cgroup there. */
export function pathInHierarchy(p: CgroupPlacement, own: string | undefined): string {
  return p.relative ? posix.join(own || '/', p.path) : p.path;
}
