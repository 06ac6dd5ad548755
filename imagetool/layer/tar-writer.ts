// Encodes tar entries (ustar headers by the tar package, PAX records here so
// long names and binary xattrs survive) for layers the image tool creates.
import { Header } from 'tar';
import type { EntryType, TarHeaderFields } from './tar-entries.js';

const TAR_TYPES: Record<EntryType, string> = {
  file: 'File',
  hardlink: 'Link',
  symlink: 'SymbolicLink',
  chardev: 'CharacterDevice',
  blockdev: 'BlockDevice',
  dir: 'Directory',
  fifo: 'FIFO',
};

/** One "<len> <key>=<value>\n" record; len counts itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

export const blockPadding = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** The header block(s) of one entry; the caller writes its data and blockPadding(size) after. */
export function encodeHeader(h: TarHeaderFields): Buffer {
  const header = new Header({
    path: h.name,
    type: TAR_TYPES[h.type] as Header['type'],
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'file' ? h.size : 0,
    mtime: h.mtime,
    linkpath: h.linkname ?? '',
    devmaj: h.devMajor ?? 0,
    devmin: h.devMinor ?? 0,
  });
  const block = Buffer.alloc(512);
  const needPax = header.encode(block, 0);
  const records: Buffer[] = [];
  if (needPax) {
    records.push(paxRecord('path', Buffer.from(h.name)));
    if (h.linkname) records.push(paxRecord('linkpath', Buffer.from(h.linkname)));
    for (const key of ['uid', 'gid', 'size'] as const) records.push(paxRecord(key, Buffer.from(String(key === 'size' ? header.size : h[key]))));
  }
  for (const [name, value] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  if (!records.length) return block;
  const pax = Buffer.concat(records);
  const paxHeader = Buffer.alloc(512);
  const base = h.name.split('/').filter(Boolean).pop() ?? '';
  new Header({ path: `PaxHeaders/${base}`.slice(0, 99), type: 'ExtendedHeader', mode: 0o644, size: pax.length, mtime: h.mtime, uid: 0, gid: 0 }).encode(paxHeader, 0);
  return Buffer.concat([paxHeader, pax, blockPadding(pax.length), block]);
}
