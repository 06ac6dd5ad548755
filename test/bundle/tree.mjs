// Describes a directory tree for comparison: per path its type, mode, owner,
// size, link target, device number and xattrs (overlay's own trusted.overlay.*
// are implementation details of a snapshot, not part of what a container sees).
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FsOps } from '../../dist/imagetool/fsops/client.js';
import { entryType } from '../../dist/imagetool/commit/upper-diff.js';

export async function describeTree(root) {
  const fsops = new FsOps();
  const out = new Map();
  const walk = async (dir, rel) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(path);
      const type = entryType(st) ?? 'socket';
      const xattrs = [...(await fsops.listXattrs(path))]
        .filter(([k]) => !k.startsWith('trusted.overlay.'))
        .map(([k, v]) => `${k}=${v.toString('hex')}`)
        .sort();
      out.set(r, {
        type,
        mode: (st.mode & 0o7777).toString(8),
        owner: `${st.uid}:${st.gid}`,
        size: type === 'file' ? st.size : undefined,
        link: type === 'symlink' ? await readlink(path) : undefined,
        rdev: type === 'chardev' || type === 'blockdev' ? st.rdev : undefined,
        xattrs: xattrs.join(','),
      });
      if (type === 'dir') await walk(path, r);
    }
  };
  try {
    await walk(root, '');
  } finally {
    await fsops.close();
  }
  return out;
}

/** Human-readable differences between two described trees (empty when equal). */
export function diffTrees(expected, actual) {
  const diffs = [];
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got) diffs.push(`missing: ${path}`);
    else if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push(`differs: ${path}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`);
  }
  for (const path of actual.keys()) if (!expected.has(path)) diffs.push(`unexpected: ${path}`);
  return diffs;
}
