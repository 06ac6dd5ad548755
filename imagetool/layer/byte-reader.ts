// Exact-length reads over an async stream of Buffers: what a tar reader needs
// (512-byte headers, bodies of a known size) without buffering whole entries.
export class ByteReader {
  readonly #source: AsyncIterator<Buffer>;
  #buffered: Buffer[] = [];
  #length = 0;
  #done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #fill(want: number): Promise<void> {
    while (this.#length < want && !this.#done) {
      const next = await this.#source.next();
      if (next.done) this.#done = true;
      else if (next.value.length) {
        this.#buffered.push(next.value);
        this.#length += next.value.length;
      }
    }
  }

  #take(n: number): Buffer {
    const all = this.#buffered.length === 1 ? this.#buffered[0] : Buffer.concat(this.#buffered, this.#length);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#buffered = rest.length ? [rest] : [];
    this.#length = rest.length;
    return out;
  }

  /** Exactly `n` bytes, or fewer only when the stream ended first. */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    return this.#take(Math.min(n, this.#length));
  }

  /** Up to `max` bytes (at least one unless the stream ended): a piece of a body. */
  async readSome(max: number): Promise<Buffer> {
    await this.#fill(1);
    if (this.#buffered.length && this.#buffered[0].length <= max) {
      const first = this.#buffered.shift()!;
      this.#length -= first.length;
      return first;
    }
    return this.#take(Math.min(max, this.#length));
  }

  /** Discards up to `n` bytes piece by piece; returns how many there were. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const piece = await this.readSome(n - skipped);
      if (piece.length === 0) break;
      skipped += piece.length;
    }
    return skipped;
  }

  /** Stops the source early (closes its file or decompressor). */
  async close(): Promise<void> {
    if (!this.#done) await this.#source.return?.();
    this.#done = true;
  }

  /** Reads and discards everything left (the tail after a tar's end still counts for its digest). */
  async drain(): Promise<void> {
    this.#buffered = [];
    this.#length = 0;
    while (!this.#done) {
      const next = await this.#source.next();
      if (next.done) this.#done = true;
    }
  }
}
