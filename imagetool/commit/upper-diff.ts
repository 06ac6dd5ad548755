// A bundle's overlay upper dir as an OCI layer tar: overlay whiteouts (0:0
// character devices) become `.wh.<name>` entries, opaque directories get a
// `.wh..wh..opq` entry, files sharing an inode become hardlink entries.
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsOps } from '../fsops/client.js';
import { blockPadding, encodeHeader, END_OF_ARCHIVE } from '../layer/tar-writer.js';
import type { EntryType, TarHeaderFields } from '../layer/tar-entries.js';
import { OPAQUE_XATTR } from '../unpack/apply-layer.js';

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/** The layer entry type of a file; null for sockets, which do not go into layers. */
export function entryType(st: Stats): EntryType | null {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  return null;
}

// glibc's dev_t encoding; the high word is read arithmetically (JS shifts are 32-bit).
const devMajor = (rdev: number) => ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const devMinor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & 0xfff00);

/**
 * Yields the tar bytes of `upper`'s changes. `exclude` lists container paths
 * (the image's volumes) whose contents stay out of the layer.
 */
export async function* upperDiffTar(upper: string, fsops: FsOps, exclude: string[] = []): AsyncGenerator<Buffer> {
  const inodes = new Map<string, string>();
  const excluded = new Set(exclude.map((p) => p.replace(/^\/+|\/+$/g, '')));
  async function* walk(dir: string, rel: string): AsyncGenerator<Buffer> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      if (excluded.has(relPath)) continue;
      const st = await lstat(path);
      const mtime = st.mtime;
      if (isWhiteout(st)) {
        const wh = rel ? `${rel}/.wh.${name}` : `.wh.${name}`;
        yield encodeHeader({ name: wh, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime });
        continue;
      }
      const type = entryType(st);
      if (!type) continue;
      const allXattrs = await fsops.listXattrs(path);
      const opaque = allXattrs.get(OPAQUE_XATTR)?.toString() === 'y';
      const xattrs = new Map([...allXattrs].filter(([k]) => !k.startsWith('trusted.overlay.')));
      const header: TarHeaderFields = { name: type === 'dir' ? `${relPath}/` : relPath, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime, xattrs };
      const inodeKey = `${st.dev}:${st.ino}`;
      if (type !== 'dir' && st.nlink > 1 && inodes.has(inodeKey)) {
        yield encodeHeader({ ...header, type: 'hardlink', linkname: inodes.get(inodeKey), xattrs: undefined });
        continue;
      }
      if (type !== 'dir' && st.nlink > 1) inodes.set(inodeKey, relPath);
      if (type === 'symlink') header.linkname = await readlink(path);
      if (type === 'chardev' || type === 'blockdev') Object.assign(header, { devMajor: devMajor(st.rdev), devMinor: devMinor(st.rdev) });
      if (type === 'file') header.size = st.size;
      yield encodeHeader(header);
      if (type === 'file') {
        let written = 0;
        for await (const chunk of createReadStream(path)) {
          const piece = (chunk as Buffer).subarray(0, st.size - written);
          written += piece.length;
          yield piece;
          if (written === st.size) break;
        }
        if (written < st.size) throw new Error(`${path}: file shrank while it was committed`);
        yield blockPadding(st.size);
      }
      if (type === 'dir') {
        if (opaque) {
          yield encodeHeader({ name: `${relPath}/.wh..wh..opq`, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime });
        }
        yield* walk(path, relPath);
      }
    }
  }
  yield* walk(upper, '');
  yield END_OF_ARCHIVE;
}
