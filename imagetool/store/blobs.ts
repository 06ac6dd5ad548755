// Blob writing: bytes stream into a temp file while being hashed; only when the
// digest (and size, if announced) match is the file fsynced and renamed to
// blobs/sha256/<hex>. A partial or wrong blob therefore never gets a blob name.
import { createHash, type Hash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, InvalidContentError, SizeMismatchError } from './errors.js';
import { fsyncDir, tempPath } from './fsutil.js';

const FLUSH_BYTES = 1 << 20;

export interface Expected {
  digest?: string;
  size?: number;
}

export interface BlobRef {
  digest: string;
  size: number;
}

export class BlobWriter {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private done = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /**
   * Sees the bytes in the pieces they are written in (~1 MiB), in order; what
   * it returns is awaited before more is written (backpressure).
   */
  onPiece?: (piece: Buffer) => Promise<void> | void;

  private constructor(
    private readonly fh: FileHandle,
    readonly tmp: string,
    private readonly blobDir: string,
    readonly expected: Expected,
  ) {}

  static async create(tmpDir: string, blobDir: string, expected: Expected = {}): Promise<BlobWriter> {
    const tmp = tempPath(tmpDir);
    return new BlobWriter(await open(tmp, 'wx', 0o644), tmp, blobDir, expected);
  }

  /** Bytes accepted so far (where a resumed download continues from). */
  get written(): number {
    return this.bytes;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.expected.size !== undefined && this.bytes + chunk.length > this.expected.size) {
      throw new SizeMismatchError(this.expected.digest ?? 'blob', this.expected.size, this.bytes + chunk.length);
    }
    this.hash.update(chunk);
    this.bytes += chunk.length;
    // Network chunks are small; one write per MiB keeps the thread-pool round trips down.
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    // One piece: a single write, and the same bytes for onPiece without another copy.
    const piece = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    for (let off = 0; off < piece.length; ) off += (await this.fh.write(piece, off)).bytesWritten;
    await this.onPiece?.(piece);
  }

  async writeAll(source: AsyncIterable<Buffer | Uint8Array | string>): Promise<void> {
    for await (const chunk of source) await this.write(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  /** Verifies, then moves the blob into place. Throws (and removes the temp) on mismatch. */
  async commit(): Promise<BlobRef> {
    const digest = `sha256:${this.hash.digest('hex')}`;
    const size = this.bytes;
    try {
      if (this.expected.size !== undefined && size !== this.expected.size) {
        throw new SizeMismatchError(this.expected.digest ?? digest, this.expected.size, size);
      }
      if (this.expected.digest && digest !== this.expected.digest) throw new DigestMismatchError(this.expected.digest, digest);
      await this.flush();
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      await rename(this.tmp, `${this.blobDir}/${digest.slice(7)}`);
      await fsyncDir(this.blobDir);
      return { digest, size };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => {});
    }
    await unlink(this.tmp).catch(() => {});
  }
}

/** Passes bytes through and fails at the end if they do not hash to `digest`. */
export class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly digest: string) {
    super();
  }
  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  _flush(cb: TransformCallback): void {
    const actual = `sha256:${this.hash.digest('hex')}`;
    cb(actual === this.digest ? null : new DigestMismatchError(this.digest, actual));
  }
}

/** The hex part of a "sha256:<64 hex>" digest (the blob's file name); anything else is refused. */
export function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new InvalidContentError(`unsupported or malformed digest "${digest}"`);
  return m[1];
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
