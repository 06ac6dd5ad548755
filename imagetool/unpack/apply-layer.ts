// Applies one layer's tar entries to a directory, either as an overlayfs
// snapshot (whiteouts become overlay whiteouts) or onto a flat rootfs
// (whiteouts delete). Every path goes through in-root.ts first.
// File system calls are synchronous: the unpacker is the only work of its
// process, and for the many small operations of a layer a thread-pool round
// trip per call costs more than the call.
import {
  chmodSync, closeSync, constants as fsc, copyFileSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync,
  lutimesSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, write, writeSync, type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { FsOps } from '../fsops/client.js';
import { LayerError } from './errors.js';
import { InRoot, lstatOrNull, splitEntryName, UnsafePathError } from './in-root.js';
import type { TarEntry } from '../layer/tar-entries.js';

export type ApplyMode = 'overlay' | 'flat';

export interface ApplyOptions {
  /** The directory the layer is applied to; it must exist. */
  root: string;
  mode: ApplyMode;
  /** The layer's digest, named in every error. */
  layer: string;
  fsops: FsOps;
  /** Overlay mode: the snapshots below this one, topmost first. */
  lowers?: string[];
  /**
   * Overlay mode, lower snapshots not there yet (unpacking while pulling): what
   * needs them waits for finishDeferred(). A hardlink to a lower file cannot
   * wait: it fails the layer (to be unpacked again once the lowers are there).
   */
  deferLowers?: boolean;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

const DEVICE_TYPE_BITS = { chardev: fsc.S_IFCHR, blockdev: fsc.S_IFBLK, fifo: fsc.S_IFIFO } as const;

/** Entries written by this layer, and every ancestor of one (those a whiteout or opaque marker must keep). */
class LayerPaths {
  readonly kept = new Set<string>();
  add(rel: string): void {
    for (let p = rel; p && !this.kept.has(p); p = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '') this.kept.add(p);
  }
}

export class LayerApplier {
  readonly #o: ApplyOptions;
  readonly #root: InRoot;
  readonly #paths = new LayerPaths();
  /** Directory times, by relative path, set once the layer's entries are in. */
  readonly #dirTimes: Array<[string, Date, Date]> = [];
  readonly #opaqueDirs: string[] = [];
  /** deferLowers: implicit parent dirs still to take their owner and mode from the lowers, by relative path. */
  readonly #implicitDirs = new Set<string>();
  /**
   * Lower entries this layer whited out, by relative path: a hardlink later in
   * the layer may still name them (whiteouts hide lower layers from the image,
   * not from the layer itself). Flat mode moves them into the aside dir
   * (the value); overlay mode finds them in the lowers.
   */
  readonly #whitedOut = new Map<string, string | undefined>();
  /**
   * Overlay mode: lower files copied up for hardlinks to them, by relative
   * path: in their own place (so name and link share the inode, as in the
   * image), or in the aside dir once this layer whited the name out.
   */
  readonly #linkCopies = new Map<string, string>();
  /** A directory in the root, for the layer's lifetime only, holding what #whitedOut and #linkCopies keep. */
  #aside: string | undefined;

  constructor(options: ApplyOptions) {
    this.#o = { ...options };
    this.#root = new InRoot(options.root);
  }

  async apply(entries: AsyncIterable<TarEntry>): Promise<void> {
    for await (const entry of entries) {
      try {
        await this.#applyEntry(entry);
      } catch (err) {
        if (err instanceof LayerError) throw err;
        const reason = err instanceof UnsafePathError ? `refused: ${err.message}` : (err as Error).message;
        throw new LayerError(this.#o.layer, entry.name, reason);
      }
    }
    for (const rel of this.#opaqueDirs) await this.#pruneLower(rel);
    if (this.#aside) rmSync(this.#aside, { recursive: true, force: true }); // hardlinks made to its files keep them
    // Directory times last: creating their children changed them.
    for (const [rel, atime, mtime] of this.#dirTimes.reverse()) {
      const path = await this.#stillDir(rel);
      if (path) utimesSync(path, atime, mtime);
    }
  }

  async #applyEntry(entry: TarEntry): Promise<void> {
    const parts = splitEntryName(entry.name);
    const base = parts[parts.length - 1] ?? '';
    if (base.startsWith(WHITEOUT)) return this.#whiteout(parts, base);
    const path = (await this.#createParents(parts))!;
    const rel = parts.join('/');
    this.#implicitDirs.delete(rel);
    this.#whitedOut.delete(rel);
    if (parts.length === 0 && entry.type !== 'dir') throw new UnsafePathError('the root must be a directory');
    this.#paths.add(rel);
    // Each kind is created where the name is expected to be free (a fresh
    // directory): whatever is there already is removed only on EEXIST, and
    // replaced, except that a directory stays a directory.
    switch (entry.type) {
      case 'file':
        return this.#writeFile(path, rel, entry);
      case 'hardlink': {
        const target = await this.#hardlinkTarget(entry.linkname);
        return this.#replacing(path, rel, () => linkSync(target, path)); // it shares its target's inode and metadata
      }
      case 'dir':
        if (!mkdirUnlessDir(path)) this.#replacing(path, rel, () => mkdirSync(path, { mode: 0o700 }));
        break;
      case 'symlink':
        this.#replacing(path, rel, () => symlinkSync(entry.linkname, path));
        break;
      default: {
        const make = () => this.#o.fsops.mknod(path, DEVICE_TYPE_BITS[entry.type as keyof typeof DEVICE_TYPE_BITS] | entry.mode, entry.devMajor, entry.devMinor);
        await make().catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
          this.#root.remove(path, rel);
          return make();
        });
      }
    }
    await this.#setMetadata(path, entry, rel);
  }

  /** Runs `make`, which creates `path`; if the name is taken, removes what has it and runs `make` again. */
  #replacing(path: string, rel: string, make: () => void): void {
    try {
      make();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.#root.remove(path, rel);
      make();
    }
  }

  /**
   * A regular file: created with O_EXCL|O_NOFOLLOW (never through a symlink),
   * its data written in the entry's pieces, owner, mode and times set through
   * the open descriptor (no further path lookups).
   */
  async #writeFile(path: string, rel: string, entry: TarEntry): Promise<void> {
    let fd = -1;
    this.#replacing(path, rel, () => (fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600)));
    try {
      const inPool = entry.size >= POOL_WRITE_BYTES;
      for await (const chunk of entry.body) {
        for (let off = 0; off < chunk.length; ) off += inPool ? await writeInPool(fd, chunk, off) : writeSync(fd, chunk, off);
      }
      fchownSync(fd, entry.uid, entry.gid);
      // chmod after chown: chown clears setuid/setgid.
      fchmodSync(fd, entry.mode);
      for (const [name, value] of entry.xattrs) await this.#o.fsops.setXattr(path, name, value);
      futimesSync(fd, entry.atime ?? entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
  }

  #createParents(parts: string[]): Promise<string | null> {
    return this.#root.resolve(parts, true, (rel, path) => this.#implicitDir(rel, path));
  }

  /**
   * The path of `rel` if it is still a directory, reached through directories
   * only: a later entry may have replaced it, or a parent, with a symlink that
   * must not be followed out of the root.
   */
  async #stillDir(rel: string): Promise<string | null> {
    let path: string | null;
    try {
      path = await this.#root.resolve(rel ? rel.split('/') : [], false);
    } catch (err) {
      if (err instanceof UnsafePathError) return null;
      throw err;
    }
    return path && lstatOrNull(path)?.isDirectory() ? path : null;
  }

  async #setMetadata(path: string, entry: TarEntry, rel: string): Promise<void> {
    lchownSync(path, entry.uid, entry.gid);
    // chmod after chown: chown clears setuid/setgid.
    if (entry.type !== 'symlink') chmodSync(path, entry.mode);
    for (const [name, value] of entry.xattrs) await this.#o.fsops.setXattr(path, name, value);
    const atime = entry.atime ?? entry.mtime;
    if (entry.type === 'dir') this.#dirTimes.push([rel, atime, entry.mtime]);
    else lutimesSync(path, atime, entry.mtime);
  }

  async #whiteout(parts: string[], base: string): Promise<void> {
    try {
      await this.#applyWhiteout(parts, base);
    } catch (err) {
      // A whiteout below a name this layer made a non-directory (umoci repack
      // writes "x" as a file, then "x/.wh.old") has nothing left to hide.
      if (!(err instanceof UnsafePathError) || !(await this.#madeNonDir(parts.slice(0, -1)))) throw err;
    }
  }

  /** Whether this layer wrote one of the directories `dirParts` names as something else. */
  async #madeNonDir(dirParts: string[]): Promise<boolean> {
    for (let i = 1; i <= dirParts.length; i++) {
      const prefix = dirParts.slice(0, i);
      if (!this.#paths.kept.has(prefix.join('/'))) return false;
      const path = await this.#root.resolve(prefix, false);
      const st = path ? lstatOrNull(path) : null;
      if (!st) return false;
      if (!st.isDirectory()) return true;
    }
    return false;
  }

  async #applyWhiteout(parts: string[], base: string): Promise<void> {
    const dirParts = parts.slice(0, -1);
    if (base === OPAQUE) {
      if (this.#o.mode === 'flat') return void this.#opaqueDirs.push(dirParts.join('/'));
      const dir = (await this.#createParents([...dirParts, base]))!;
      return this.#o.fsops.setXattr(dirname(dir), OPAQUE_XATTR, Buffer.from('y'));
    }
    const name = base.slice(WHITEOUT.length);
    if (name === '' || name === '.' || name === '..') throw new UnsafePathError('invalid whiteout name');
    const target = [...dirParts, name];
    // A whiteout hides lower layers only, never what this layer wrote.
    const rel = target.join('/');
    if (this.#paths.kept.has(rel)) return;
    if (this.#o.mode === 'flat') {
      const path = await this.#root.resolve(target, false);
      if (!path || !lstatOrNull(path)) return;
      const aside = join(this.#asideDir(), String(this.#whitedOut.size));
      renameSync(path, aside);
      this.#root.forget(rel);
      this.#whitedOut.set(rel, aside);
      return;
    }
    const path = (await this.#createParents(target))!;
    if (this.#linkCopies.get(rel) === path) {
      // Copied up for a hardlink: the link keeps it; later ones find it aside.
      const aside = join(this.#asideDir(), `link-${this.#linkCopies.size}`);
      renameSync(path, aside);
      this.#linkCopies.set(rel, aside);
    } else this.#root.remove(path, rel);
    await this.#o.fsops.mknod(path, fsc.S_IFCHR, 0, 0);
    this.#whitedOut.set(rel, undefined);
  }

  #asideDir(): string {
    if (!this.#aside) {
      // Unguessable, so no entry of the layer can name it.
      this.#aside = join(this.#o.root, `.rocker-aside-${randomBytes(8).toString('hex')}`);
      mkdirSync(this.#aside, { mode: 0o700 });
    }
    return this.#aside;
  }

  /** The entry this layer whited out at or above `parts`: [how many of the parts name it, where flat mode put it]. */
  #whitedOutAt(parts: string[]): [number, string | undefined] | undefined {
    if (this.#whitedOut.size === 0) return undefined;
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (this.#whitedOut.has(rel)) return [i, this.#whitedOut.get(rel)];
    }
    return undefined;
  }

  /** Flat mode: removes what lower layers left under an opaque directory. */
  async #pruneLower(rel: string): Promise<void> {
    const parts = rel ? rel.split('/') : [];
    const dir = await this.#root.resolve(parts, false);
    if (!dir || !lstatOrNull(dir)?.isDirectory()) return;
    for (const name of readdirSync(dir)) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (!this.#paths.kept.has(childRel)) this.#root.remove(join(dir, name), childRel);
      else if (lstatOrNull(join(dir, name))?.isDirectory()) await this.#pruneLower(childRel);
    }
  }

  /**
   * A parent the layer did not list. In an overlay snapshot it would shadow the
   * lower directory's owner and mode, so it copies them from the topmost lower;
   * a lower symlink there is refused like a symlinked parent in flat mode.
   */
  async #implicitDir(rel: string, path: string, keep = true): Promise<void> {
    if (keep) this.#paths.add(rel);
    if (this.#o.deferLowers) return void this.#implicitDirs.add(rel);
    await this.#copyLowerDir(rel, path);
  }

  async #copyLowerDir(rel: string, path: string): Promise<void> {
    const lower = await this.#findInLowers(rel.split('/'));
    if (!lower) return;
    // What the container sees there must be a real directory, as in flat mode.
    if (lower.stat.isSymbolicLink()) throw new UnsafePathError(`parent "${rel}" is a symlink (in a lower layer)`);
    if (!lower.stat.isDirectory()) throw new UnsafePathError(`parent "${rel}" is not a directory (in a lower layer)`);
    lchownSync(path, lower.stat.uid, lower.stat.gid);
    chmodSync(path, lower.stat.mode & 0o7777);
  }

  /**
   * What the merged view of the lower snapshots shows at `parts`: the topmost
   * lower's entry, unless a whiteout or an opaque directory hides it.
   */
  async #findInLowers(parts: string[]): Promise<{ path: string; stat: Stats } | null> {
    for (const lower of this.#o.lowers ?? []) {
      let cur = lower;
      let opaque = false;
      for (let i = 0; i < parts.length; i++) {
        const next = join(cur, parts[i]);
        const stat = lstatOrNull(next);
        if (!stat) break;
        if (stat.isCharacterDevice() && stat.rdev === 0) return null;
        if (i === parts.length - 1) return { path: next, stat };
        if (!stat.isDirectory()) return null;
        opaque ||= (await this.#o.fsops.listXattrs(next)).get(OPAQUE_XATTR)?.toString() === 'y';
        cur = next;
      }
      if (opaque) return null;
    }
    return null;
  }

  /** deferLowers: the lowers (topmost first) are there now; gives implicit parent dirs their owner and mode. */
  async finishDeferred(lowers: string[]): Promise<void> {
    this.#o.lowers = lowers;
    for (const rel of this.#implicitDirs) {
      // Replaced or removed later in the layer: nothing left to fix.
      const path = await this.#stillDir(rel);
      if (!path) continue;
      try {
        await this.#copyLowerDir(rel, path);
      } catch (err) {
        const reason = err instanceof UnsafePathError ? `refused: ${err.message}` : (err as Error).message;
        throw new LayerError(this.#o.layer, rel, reason);
      }
    }
    this.#implicitDirs.clear();
  }

  async #hardlinkTarget(linkname: string): Promise<string> {
    let parts: string[];
    try {
      parts = splitEntryName(linkname);
    } catch (err) {
      throw new UnsafePathError(`hardlink target "${linkname}": ${(err as Error).message}`);
    }
    if (parts.length === 0) throw new UnsafePathError(`hardlink target "${linkname}" is the root`);
    const whitedOut = this.#whitedOutAt(parts);
    const [cut, aside] = whitedOut ?? [0, undefined];
    // What this layer whited out is still the link's target: flat mode moved
    // it aside, overlay mode finds it in the lowers.
    const path = whitedOut ? aside && (await new InRoot(aside).resolve(parts.slice(cut), false)) : await this.#root.resolve(parts, false);
    const st = path ? lstatOrNull(path) : null;
    if (st?.isDirectory()) throw new UnsafePathError(`hardlink target "${linkname}" is a directory`);
    if (st) return path!;
    // Overlay mode: a link to a file of a lower layer links to a copy of it in this layer.
    if (this.#o.mode === 'flat') throw new Error(`hardlink target "${linkname}" does not exist`);
    if (this.#o.deferLowers) throw new Error(`hardlink target "${linkname}" is in a lower layer`);
    const rel = parts.join('/');
    const copied = this.#linkCopies.get(rel);
    if (copied && lstatOrNull(copied)) return copied;
    const lower = await this.#findInLowers(parts);
    if (!lower || lower.stat.isDirectory()) throw new Error(`hardlink target "${linkname}" does not exist`);
    // Neither the copy nor parents made for it are the layer's own entries: a later whiteout still applies to them.
    const up = whitedOut
      ? join(this.#asideDir(), `link-${this.#linkCopies.size}`)
      : (await this.#root.resolve(parts, true, (r, p) => this.#implicitDir(r, p, false)))!;
    await copyUp(lower.path, up, lower.stat, this.#o.fsops);
    this.#linkCopies.set(rel, up);
    return up;
  }
}

/**
 * Bodies this big are written by the thread pool, leaving the main thread to
 * hash and parse (it is the bottleneck of unpacking while pulling); smaller
 * ones synchronously, as a round trip would cost more than the write.
 */
const POOL_WRITE_BYTES = 4 << 20;

function writeInPool(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, offset, buf.length - offset, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/** mkdir, or nothing if a directory is there already; false if something else has the name. */
function mkdirUnlessDir(path: string): boolean {
  try {
    mkdirSync(path, { mode: 0o700 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return lstatSync(path).isDirectory();
  }
}

async function copyUp(from: string, to: string, st: Stats, fsops: FsOps): Promise<void> {
  if (st.isSymbolicLink() || !st.isFile()) throw new Error(`cannot copy up "${from}" for a hardlink: not a regular file`);
  copyFileSync(from, to, fsc.COPYFILE_EXCL);
  lchownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
  for (const [name, value] of await fsops.listXattrs(from)) await fsops.setXattr(to, name, value);
  utimesSync(to, st.atime, st.mtime);
}
