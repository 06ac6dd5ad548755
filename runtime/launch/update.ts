// The update operation, shared by `update` and the containerd shim: new resource
// limits for a live container, applied to its cgroups and kept in state.json.
import { requireRunning, withLockedCgroup } from '../cgroups/container.js';
import type { Resources } from '../cgroups/types.js';
import type { ResourceSource } from '../cgroups/fs-manager.js';
import { writeState } from '../state/state-file.js';
import { SpecError } from '../errors.js';
import { assertNesting } from '../spec/validate.js';

/** A LinuxResources JSON document; `name` says where it came from in errors. */
export function parseResources(text: string, name: string): Resources {
  assertNesting(text, name);
  let value: unknown;
  try {
    // Go clients may send null for an unset field; it means the same as absent.
    value = JSON.parse(text, (_k, v: unknown) => (v === null ? undefined : v));
  } catch (e) {
    throw new SpecError(name, '', `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpecError(name, '', 'expected a LinuxResources object');
  }
  return value as Resources;
}

/** Merges `update` into the stored resources section by section. */
function merge(stored: Record<string, unknown>, update: Resources): Record<string, unknown> {
  const out = { ...stored };
  for (const [k, v] of Object.entries(update)) {
    const prev = out[k];
    const bothObjects = [prev, v].every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
    out[k] = bothObjects ? { ...(prev as object), ...(v as object) } : v;
  }
  return out;
}

export async function updateContainer(root: string, id: string, resources: Resources, source: ResourceSource, warn: (msg: string) => void): Promise<void> {
  await withLockedCgroup(
    root,
    id,
    async (c) => {
      requireRunning(c);
      await c.cg.update(resources, source);
      const linux = (c.st.config.linux ??= {}) as { resources?: Record<string, unknown> };
      linux.resources = merge(linux.resources ?? {}, resources);
      writeState(c.cd, c.st);
    },
    warn,
  );
}
