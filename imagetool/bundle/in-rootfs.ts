// Resolves a path inside an image's rootfs the way the container would see it
// (symlinks interpreted relative to the rootfs, never to the host), so reading
// /etc/passwd or seeding a volume cannot be steered to a host file.
import { constants as fsc } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_SYMLINKS = 40;

export class RootfsPathError extends Error {}

/** The host path of `path` inside `root` with every symlink resolved within root; null if absent. */
export async function resolveInRootfs(root: string, path: string): Promise<string | null> {
  const pending = path.split('/').filter((p) => p && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop(); // ".." at the rootfs root stays at the root, as in a chroot
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new RootfsPathError(`${path}: too many levels of symbolic links`);
    const target = await readlink(host);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((p) => p && p !== '.'));
  }
  return join(root, ...done);
}

/** The text of a regular file inside the rootfs, or null when there is none. */
export async function readRootfsFile(root: string, path: string): Promise<string | null> {
  const host = await resolveInRootfs(root, path);
  if (!host) return null;
  // O_NOFOLLOW: the last component was resolved above and must still not be a link.
  const fh = await open(host, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) return null;
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}
