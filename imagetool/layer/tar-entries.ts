// Reads a tar stream into entries. PAX and GNU long-name records are read
// byte-exactly, so binary xattrs (SCHILY.xattr.*, e.g. security.capability)
// survive.
import { decodeHeader } from './tar-header.js';
import { ByteReader } from './byte-reader.js';

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

/** An entry's header fields, as read from a layer and as written into one. */
export interface TarHeaderFields {
  /** The name as stored in the archive (not yet checked or normalised). */
  name: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Data size; only regular files have data. */
  size: number;
  mtime: Date;
  linkname?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Map<string, Buffer>;
}

export interface TarEntry extends TarHeaderFields {
  atime?: Date;
  linkname: string;
  devMajor: number;
  devMinor: number;
  xattrs: Map<string, Buffer>;
  /** The entry's data; must be consumed before the next entry is requested, or it is skipped. */
  body: AsyncIterable<Buffer>;
}

const ENTRY_TYPES: Record<string, EntryType> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Link: 'hardlink',
  SymbolicLink: 'symlink',
  CharacterDevice: 'chardev',
  BlockDevice: 'blockdev',
  Directory: 'dir',
  GNUDumpDir: 'dir',
  FIFO: 'fifo',
};

export class TarFormatError extends Error {}

interface PaxRecords {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  atime?: Date;
  xattrs: Map<string, Buffer>;
}

const XATTR_PREFIX = 'SCHILY.xattr.';

/** Parses "<len> <key>=<value>\n" records byte-exactly. */
function parsePax(data: Buffer, into: PaxRecords): void {
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const len = Number(data.subarray(pos, space).toString('latin1'));
    if (space < 0 || !Number.isInteger(len) || len <= 0 || pos + len > data.length) throw new TarFormatError('malformed PAX record');
    const record = data.subarray(space + 1, pos + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError('malformed PAX record');
    const key = record.subarray(0, eq).toString('utf8');
    const value = record.subarray(eq + 1);
    const text = () => value.toString('utf8');
    const time = () => new Date(Number(text()) * 1000);
    if (key.startsWith(XATTR_PREFIX)) into.xattrs.set(key.slice(XATTR_PREFIX.length), Buffer.from(value));
    else if (key === 'path') into.path = text();
    else if (key === 'linkpath') into.linkpath = text();
    else if (key === 'size') into.size = Number(text());
    else if (key === 'uid') into.uid = Number(text());
    else if (key === 'gid') into.gid = Number(text());
    else if (key === 'mtime') into.mtime = time();
    else if (key === 'atime') into.atime = time();
    pos += len;
  }
}

const blocks = (size: number) => Math.ceil(size / 512) * 512;
const cString = (b: Buffer) => {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
};

/** Yields each filesystem entry of the tar stream `source`; reads the stream to its end. */
export async function* readTarEntries(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  try {
    yield* entries(reader);
    await reader.drain();
  } finally {
    await reader.close();
  }
}

async function* entries(reader: ByteReader): AsyncGenerator<TarEntry> {
  const global: PaxRecords = { xattrs: new Map() };
  let local: PaxRecords = { xattrs: new Map() };
  for (;;) {
    const block = await reader.read(512);
    if (block.length === 0) break; // tolerated: an archive without the end-of-archive blocks
    if (block.length < 512) throw new TarFormatError('truncated tar header');
    if (block.every((b) => b === 0)) break;
    const header = decodeHeader(block);
    if (!header.cksumValid) throw new TarFormatError('invalid tar header checksum');
    const typeName = header.type;
    const name = local.path ?? global.path ?? header.path;
    // v7 archives mark directories with a trailing slash only; judged on the
    // whole name: a long name's 100-byte ustar field may end in a slash anywhere.
    const slashDir = (typeName === 'File' || typeName === 'OldFile') && name.endsWith('/');
    const headerSize = slashDir ? 0 : (local.size ?? header.size);
    const readMeta = async () => {
      const data = await reader.read(blocks(headerSize));
      if (data.length < blocks(headerSize)) throw new TarFormatError(`truncated ${typeName} record`);
      return data.subarray(0, headerSize);
    };
    if (typeName === 'ExtendedHeader' || typeName === 'OldExtendedHeader') {
      parsePax(await readMeta(), local);
      continue;
    }
    if (typeName === 'GlobalExtendedHeader') {
      parsePax(await readMeta(), global);
      continue;
    }
    if (typeName === 'NextFileHasLongPath' || typeName === 'OldGnuLongPath') {
      local.path = cString(await readMeta());
      continue;
    }
    if (typeName === 'NextFileHasLongLinkpath') {
      local.linkpath = cString(await readMeta());
      continue;
    }
    const type = slashDir ? 'dir' : ENTRY_TYPES[typeName];
    if (!type) throw new TarFormatError(`entry "${name}": unsupported tar entry type ${typeName}`);
    // Only regular files carry data that belongs to the entry; anything else's size is skipped.
    let remaining = type === 'file' ? headerSize : 0;
    const body = async function* () {
      while (remaining > 0) {
        const chunk = await reader.readSome(remaining);
        if (chunk.length === 0) throw new TarFormatError(`entry "${name}": truncated file data`);
        remaining -= chunk.length;
        yield chunk;
      }
    };
    yield {
      name,
      type,
      mode: header.mode & 0o7777,
      uid: local.uid ?? global.uid ?? header.uid,
      gid: local.gid ?? global.gid ?? header.gid,
      size: type === 'file' ? headerSize : 0,
      mtime: local.mtime ?? global.mtime ?? header.mtime,
      atime: local.atime ?? global.atime,
      linkname: local.linkpath ?? global.linkpath ?? header.linkpath,
      devMajor: header.devmaj,
      devMinor: header.devmin,
      xattrs: new Map([...global.xattrs, ...local.xattrs]),
      body: body(),
    };
    // Skip what the consumer did not read, then the padding to the next block.
    const unread = type === 'file' ? remaining : headerSize;
    if ((await reader.skip(unread)) < unread) throw new TarFormatError(`entry "${name}": truncated tar entry`);
    // Some writers (umoci insert) end the stream right after the last entry's data,
    // without padding or end-of-archive blocks; the data is complete, so that is accepted.
    await reader.skip(blocks(headerSize) - headerSize);
    local = { xattrs: new Map() };
  }
}
