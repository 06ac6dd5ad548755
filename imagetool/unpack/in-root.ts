// Path handling that keeps every write of a layer inside its target directory.
// Names are checked lexically (no absolute paths, no ".."), and each parent
// component is lstat'ed inside the root so a symlink is never followed on the
// way to an entry: a layer can only create, replace or delete names under root.
// Unpacking is the only writer of its (temporary) target, so a directory once
// checked stays one until this unpacker itself removes it (forget()).
import { lstatSync, mkdirSync, rmSync, type Stats } from 'node:fs';

export class UnsafePathError extends Error {}

/** The components of an archive name; [] is the root itself. Throws UnsafePathError. */
export function splitEntryName(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  // "/" alone is the root itself (umoci writes its root entry so); anything else absolute is refused.
  if (name.startsWith('/') && parts.length) throw new UnsafePathError('absolute path');
  if (parts.includes('..')) throw new UnsafePathError('path contains ".."');
  return parts;
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export class InRoot {
  /** Relative paths checked to be real directories ('' is the root). */
  readonly #dirs = new Set<string>(['']);

  readonly root: string;

  constructor(root: string) {
    this.root = root.replace(/\/+$/, '') || '/';
  }

  /**
   * Checks the parent directories of `parts` and returns the full path of the
   * last component. Missing parents are created (0755, root-owned, as tar
   * layers may omit them) when `create` is set, and reported to `onCreate`;
   * otherwise a missing parent returns null.
   */
  async resolve(parts: string[], create: boolean, onCreate?: (rel: string, path: string) => Promise<void>): Promise<string | null> {
    let cur = this.root;
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i];
      cur = `${cur}/${parts[i]}`; // parts are plain names (splitEntryName): no join() needed
      if (this.#dirs.has(rel)) continue;
      const st = lstatOrNull(cur);
      if (!st) {
        if (!create) return null;
        mkdirSync(cur, { mode: 0o755 });
        await onCreate?.(rel, cur);
      } else if (st.isSymbolicLink()) {
        throw new UnsafePathError(`parent "${rel}" is a symlink`);
      } else if (!st.isDirectory()) {
        throw new UnsafePathError(`parent "${rel}" is not a directory`);
      }
      this.#dirs.add(rel);
    }
    return parts.length ? `${cur}/${parts[parts.length - 1]}` : this.root;
  }

  /** Removes `path` (the entry `rel`) and whatever it held; forgets directories checked there. */
  remove(path: string, rel: string): void {
    rmSync(path, { recursive: true, force: true });
    this.forget(rel);
  }

  /** Forgets the directories checked at and below `rel` (it was removed or moved away). */
  forget(rel: string): void {
    if (!this.#dirs.has(rel)) return;
    for (const d of this.#dirs) if (d === rel || d.startsWith(`${rel}/`)) this.#dirs.delete(d);
  }
}
