// Busybox containers through rocker-runtime for the cgroups tests, each in a
// temp --root with cgroups under /<TOP>-run; cleanup() removes everything.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, rt, rtDetached, tempDir, cleanupRoot } from '../runtime/helpers.mjs';
import { cleanup as cleanupCgroups, TOP } from './helpers.mjs';

export const root = tempDir('cgrun');
const bundles = [];
let n = 0;

export async function cleanup() {
  await cleanupRoot(root);
  await cleanupCgroups();
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
}

/** A unique container id starting with `label`. */
export const containerId = (label) => `${label}-${process.pid}-${++n}`;

/** A busybox bundle running `sh -c script` in /<TOP>-run/<id> with `resources`; `edit` adjusts the config further. */
export function bundle(id, script, resources, edit = () => {}) {
  const b = makeBundle((c) => {
    c.process.args = ['sh', '-c', script];
    // Raising ambient capabilities is not what these tests are about.
    delete c.process.capabilities.ambient;
    c.linux.cgroupsPath = `/${TOP}-run/${id}`;
    c.linux.resources = { ...c.linux.resources, ...resources };
    edit(c);
  });
  symlinkSync('busybox', join(b, 'rootfs/bin/seq'));
  bundles.push(b);
  return b;
}

/** rocker-runtime create; returns the container's cgroup paths (from state.json). */
export async function created(id, b) {
  const c = await rtDetached(root, ['create', '--bundle', b, id]);
  assert.equal(c.code, 0, c.stderr);
  return JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupPaths;
}

/** create + start; returns the container's id, bundle and cgroup paths. */
export async function started(label, script, resources, edit) {
  const id = containerId(label);
  const b = bundle(id, script, resources, edit);
  const paths = await created(id, b);
  const s = await rtDetached(root, ['start', id]);
  assert.equal(s.code, 0, s.stderr);
  return { id, bundle: b, paths };
}

/** rocker-runtime with this --root. */
export const rr = (args) => rt(root, args);

export async function deleteForce(id, paths) {
  const r = await rr(['delete', '--force', id]);
  assert.equal(r.code, 0, r.stderr);
  for (const d of Object.values(paths)) assert.ok(!existsSync(d), `${d} removed`);
}
