// Path handling that keeps every write of a layer inside its target directory.
// Names are checked lexically (no absolute paths, no ".."), and each parent
// component is lstat'ed inside the root so a symlink is never followed on the
// way to an entry: a layer can only create, replace or delete names under root.
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export class UnsafePathError extends Error {}

/** The components of an archive name; [] is the root itself. Throws UnsafePathError. */
export function splitEntryName(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  // "/" alone is the root itself (umoci writes its root entry so); anything else absolute is refused.
  if (name.startsWith('/') && parts.length) throw new UnsafePathError('absolute path');
  if (parts.includes('..')) throw new UnsafePathError('path contains ".."');
  return parts;
}

export async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Walks the parent directories of `parts` inside `root` and returns the full
 * path of the last component. Missing parents are created (0755, root-owned,
 * as tar layers may omit them) when `create` is set, reported through
 * `onCreate`; otherwise a missing parent returns null.
 */
export async function resolveParents(
  root: string,
  parts: string[],
  create: boolean,
  onCreate?: (rel: string, path: string) => Promise<void>,
): Promise<string | null> {
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = join(cur, parts[i]);
    const st = await lstatOrNull(next);
    if (!st) {
      if (!create) return null;
      await mkdir(next, { mode: 0o755 });
      await onCreate?.(parts.slice(0, i + 1).join('/'), next);
    } else if (st.isSymbolicLink()) {
      throw new UnsafePathError(`parent "${parts.slice(0, i + 1).join('/')}" is a symlink`);
    } else if (!st.isDirectory()) {
      throw new UnsafePathError(`parent "${parts.slice(0, i + 1).join('/')}" is not a directory`);
    }
    cur = next;
  }
  return parts.length ? join(cur, parts[parts.length - 1]) : root;
}
