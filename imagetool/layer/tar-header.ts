// Decodes one 512-byte tar header block (ustar, GNU and v7 layouts). Done here
// rather than by the tar package: loading that package costs ~20 ms, more than
// a bundle from an unpacked image takes in all. PAX and GNU long-name records
// are the caller's (tar-entries.ts).

export interface RawHeader {
  /** The type flag's name, e.g. 'File', 'Directory', 'ExtendedHeader' ('Unsupported' if unknown). */
  type: string;
  path: string;
  linkpath: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  devmaj: number;
  devmin: number;
  cksumValid: boolean;
}

const TYPE_NAMES: Record<string, string> = {
  '0': 'File',
  '': 'OldFile',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
  '7': 'ContiguousFile',
  g: 'GlobalExtendedHeader',
  x: 'ExtendedHeader',
  X: 'OldExtendedHeader',
  D: 'GNUDumpDir',
  L: 'NextFileHasLongPath',
  K: 'NextFileHasLongLinkpath',
  N: 'OldGnuLongPath',
};

/** A NUL-terminated string field. */
function text(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** A numeric field: octal text, or base-256 when the high bit of its first byte is set. */
function number(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    const negative = b[off] === 0xff;
    let v = 0;
    for (let i = off + (negative ? 0 : 1); i < off + len; i++) v = v * 256 + (negative ? 0xff - b[i] : b[i]);
    if (negative) v = -(v + 1);
    if (!Number.isSafeInteger(v)) throw new Error('tar header number outside the safe integer range');
    return v;
  }
  const v = parseInt(text(b, off, len).trim(), 8);
  return Number.isNaN(v) ? 0 : v;
}

/** The checksum covers the block with its own field read as spaces. */
function checksumOk(b: Buffer, stored: number): boolean {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += b[i];
  for (let i = 156; i < 512; i++) sum += b[i];
  return sum === stored;
}

export function decodeHeader(b: Buffer): RawHeader {
  const flag = b[156] === 0 ? '' : String.fromCharCode(b[156]);
  let path = text(b, 0, 100);
  const type = TYPE_NAMES[flag] ?? 'Unsupported';
  let devmaj = 0;
  let devmin = 0;
  // POSIX ustar ("ustar\0" "00"): device numbers and the name prefix. GNU's "ustar  \0" keeps times there instead.
  if (b.toString('latin1', 257, 265) === 'ustar\u000000') {
    devmaj = number(b, 329, 8);
    devmin = number(b, 337, 8);
    const prefix = b[475] !== 0 ? text(b, 345, 155) : text(b, 345, 130);
    if (prefix) path = `${prefix}/${path}`;
  }
  const size = number(b, 124, 12);
  return {
    type,
    path,
    linkpath: text(b, 157, 100),
    mode: number(b, 100, 8),
    uid: number(b, 108, 8),
    gid: number(b, 116, 8),
    size: type === 'Directory' || size < 0 ? 0 : size,
    mtime: new Date(number(b, 136, 12) * 1000),
    devmaj,
    devmin,
    cksumValid: checksumOk(b, number(b, 148, 8)),
  };
}
