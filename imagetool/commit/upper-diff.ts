// A bundle's overlay upper dir as an OCI layer tar: overlay whiteouts (0:0
// character devices) become `.wh.<name>` entries, opaque directories get a
// `.wh..wh..opq` entry, files sharing an inode become hardlink entries.
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
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
 * Paths through an open directory descriptor: /proc/<pid>/fd/<fd>/<name>
 * resolves <name> inside that very directory (like openat), so a running
 * container that swaps a directory for a symlink cannot steer a read to a
 * host file. The pid form also works for the fsops helper process.
 */
const at = (dirFd: number, name: string) => `/proc/${process.pid}/fd/${dirFd}/${name}`;

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

/** Opens `name` in the directory `dirFd` without following a symlink; it must still be the file `st` describes. */
function openChecked(dirFd: number, name: string, st: Stats, flags: number): number {
  const fd = openSync(at(dirFd, name), flags | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  if (!sameFile(fstatSync(fd), st)) {
    closeSync(fd);
    throw new Error(`${name}: replaced while it was committed`);
  }
  return fd;
}

function* fileData(fd: number, size: number, name: string): Generator<Buffer> {
  let left = size;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(left, 256 * 1024));
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) throw new Error(`${name}: file shrank while it was committed`);
    left -= n;
    yield buf.subarray(0, n);
  }
}

/**
 * Yields the tar bytes of `upper`'s changes. `exclude` lists container paths
 * (the image's volumes) whose contents stay out of the layer.
 */
export async function* upperDiffTar(upper: string, fsops: FsOps, exclude: string[] = []): AsyncGenerator<Buffer> {
  const inodes = new Map<string, string>();
  const excluded = new Set(exclude.map((p) => p.replace(/^\/+|\/+$/g, '')));
  async function* walk(dirFd: number, rel: string): AsyncGenerator<Buffer> {
    for (const name of readdirSync(at(dirFd, '')).sort()) {
      const relPath = rel ? `${rel}/${name}` : name;
      if (excluded.has(relPath)) continue;
      const st = lstatSync(at(dirFd, name));
      const mtime = st.mtime;
      if (isWhiteout(st)) {
        const wh = rel ? `${rel}/.wh.${name}` : `.wh.${name}`;
        yield encodeHeader({ name: wh, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime });
        continue;
      }
      const type = entryType(st);
      if (!type) continue;
      const allXattrs = await fsops.listXattrs(at(dirFd, name));
      const opaque = allXattrs.get(OPAQUE_XATTR)?.toString() === 'y';
      const xattrs = new Map([...allXattrs].filter(([k]) => !k.startsWith('trusted.overlay.')));
      const header: TarHeaderFields = { name: type === 'dir' ? `${relPath}/` : relPath, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime, xattrs };
      const inodeKey = `${st.dev}:${st.ino}`;
      if (type !== 'dir' && st.nlink > 1 && inodes.has(inodeKey)) {
        yield encodeHeader({ ...header, type: 'hardlink', linkname: inodes.get(inodeKey), xattrs: undefined });
        continue;
      }
      if (type !== 'dir' && st.nlink > 1) inodes.set(inodeKey, relPath);
      if (type === 'symlink') header.linkname = readlinkSync(at(dirFd, name));
      if (type === 'chardev' || type === 'blockdev') Object.assign(header, { devMajor: devMajor(st.rdev), devMinor: devMinor(st.rdev) });
      if (type === 'file') header.size = st.size;
      if (type !== 'file' && type !== 'dir') {
        yield encodeHeader(header);
        continue;
      }
      const fd = openChecked(dirFd, name, st, type === 'dir' ? fsc.O_RDONLY | fsc.O_DIRECTORY : fsc.O_RDONLY);
      try {
        yield encodeHeader(header);
        if (type === 'file') {
          yield* fileData(fd, st.size, relPath);
          yield blockPadding(st.size);
          continue;
        }
        if (opaque) yield encodeHeader({ name: `${relPath}/.wh..wh..opq`, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime });
        yield* walk(fd, relPath);
      } finally {
        closeSync(fd);
      }
    }
  }
  const root = openSync(upper, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    yield* walk(root, '');
  } finally {
    closeSync(root);
  }
  yield END_OF_ARCHIVE;
}
