// Layer snapshots made while the layers download: each layer's bytes go to its
// blob writer and, as they arrive, through gunzip and the tar reader into a
// temporary snapshot, several layers at once. A layer is applied without its
// lower snapshots (they may still be on their way); what needs them (implicit
// parent dirs) is finished when they are in place. A snapshot is committed as
// soon as its blob is verified and stored, its diff_id checked and every
// layer below it committed, so what is held in memory does not grow with the
// layer count. A layer that cannot be unpacked on the way (zstd, a hardlink
// into a lower layer, a refused entry, a restarted download, a blob that was
// in the store already) is unpacked from the stored blob at that point, which
// names what is wrong with it; the pull then fails.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { FsOps } from '../fsops/client.js';
import type { LayerApplier } from './apply-layer.js';
import { compressionOf, gunzip } from './decompress.js';
import { applyLayerStream, type LayerBlob } from './layer-blob.js';
import { LayerLimitError, type LayerLimits } from './limits.js';
import { chainIds, lowersOf, SnapshotStore } from './snapshots.js';

/** Compressed bytes buffered ahead of the unpacker before the download waits for it. */
const AHEAD_BYTES = 8 << 20;

/** One layer being unpacked into a temporary snapshot from the bytes pushed in. */
export class LayerSink {
  readonly #feed: Readable;
  #wake: (() => void) | undefined;
  #started: Promise<LayerApplier> | undefined;
  /** What the unpacker reads: the feed, or gunzip's output. */
  #source: Readable | undefined;
  #failed = false;

  constructor(
    /** The temporary snapshot. */
    readonly dir: string,
    private readonly layer: LayerBlob,
    private readonly fsops: FsOps,
    private readonly limits: LayerLimits,
  ) {
    this.#feed = new Readable({ highWaterMark: AHEAD_BYTES, read: () => this.#release() });
  }

  get failed(): boolean {
    return this.#failed;
  }

  #release(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The unpacker, started at the first bytes (they tell the compression). */
  #start(head: Buffer): void {
    const kind = compressionOf(head);
    const run = async (): Promise<LayerApplier> => {
      if (kind === 'zstd') throw new Error('zstd layers are unpacked from the stored blob');
      const source = (this.#source = kind === 'gzip' ? pipeline(this.#feed, gunzip(), () => {}) : this.#feed);
      return applyLayerStream(source, this.layer, { root: join(this.dir, 'fs'), mode: 'overlay', fsops: this.fsops, deferLowers: true, limits: this.limits });
    };
    this.#started = run();
    this.#started.catch(() => this.#fail());
  }

  #fail(): void {
    this.#failed = true;
    // With an error: a stream destroyed without one right after its end was
    // pushed can leave its reader waiting forever.
    if (this.#source) this.#source.destroy(new Error('unpacking stopped'));
    else this.#feed.destroy();
    this.#release();
  }

  /**
   * Takes the next downloaded bytes, in the blob writer's pieces (~1 MiB: each
   * costs a zlib thread-pool round trip and a pass of every stage); resolves
   * when the unpacker is ready for more.
   */
  push(piece: Buffer): Promise<void> | void {
    if (this.#failed) return;
    if (!this.#started) this.#start(piece);
    if (this.#feed.push(piece)) return;
    return new Promise((resolve) => (this.#wake = resolve));
  }

  /** The download is complete. */
  end(): void {
    if (!this.#failed) this.#feed.push(null);
  }

  /** Stops unpacking (the download starts over, or failed). */
  abandon(): void {
    if (!this.#failed) this.#fail();
  }

  /** Waits for the unpacker; finishes the layer on its (now present) lowers, topmost first. Throws if it failed. */
  async finish(lowers: string[]): Promise<void> {
    if (!this.#started) throw new Error('no bytes were unpacked');
    const applier = await this.#started;
    await applier.finishDeferred(lowers);
  }

  /** Removes the temporary snapshot once the unpacker has stopped. */
  async remove(): Promise<void> {
    await this.#started?.catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The snapshots of one pull's layers. */
export class SnapshotsWhilePulling {
  readonly #snapshots: SnapshotStore;
  readonly #chains: string[];
  /** Every layer's snapshot dir, bottom first. */
  readonly #dirs: string[];
  readonly #sinks = new Map<number, LayerSink>();
  /** Layers whose blob is stored and whose snapshot waits for a lower one. */
  readonly #stored = new Set<number>();
  /** The lowest layer without a committed snapshot. */
  #next = 0;
  /** Commits run one at a time, bottom-up. */
  #committing: Promise<void> = Promise.resolve();
  #error: unknown;
  readonly #fsops = new FsOps();

  constructor(
    store: { snapshotDir: string; tmpDir: string },
    private readonly layers: LayerBlob[],
    private readonly limits: LayerLimits,
  ) {
    this.#snapshots = new SnapshotStore(store);
    this.#chains = chainIds(layers.map((l) => l.diffId));
    this.#dirs = this.#chains.map((c) => this.#snapshots.fsDir(c));
  }

  /** A sink for layer `i`, or undefined if its snapshot exists already. */
  async sink(i: number): Promise<LayerSink | undefined> {
    if (await this.#snapshots.exists(this.#chains[i])) return undefined;
    const sink = new LayerSink(await this.#snapshots.makeTemp(), this.layers[i], this.#fsops, this.limits);
    this.#sinks.set(i, sink);
    return sink;
  }

  /**
   * Layer `i`'s blob is verified and stored: commits every snapshot that is
   * now ready, bottom-up. Throws (a LayerError) if a layer cannot be unpacked.
   */
  stored(i: number): Promise<void> {
    this.#stored.add(i);
    const run = this.#committing.then(() => this.#advance());
    this.#committing = run.catch(() => undefined);
    return run;
  }

  /** Whether every layer has its snapshot. */
  get complete(): boolean {
    return this.#next === this.layers.length;
  }

  async #advance(): Promise<void> {
    if (this.#error) throw this.#error;
    try {
      while (this.#next < this.layers.length && this.#stored.has(this.#next)) {
        await this.#commit(this.#next);
        this.#stored.delete(this.#next++);
      }
    } catch (err) {
      this.#error = err;
      throw err;
    }
  }

  async #commit(i: number): Promise<void> {
    const sink = this.#sinks.get(i);
    // Dropped now: its unpacker's state goes with it.
    this.#sinks.delete(i);
    if (await this.#snapshots.exists(this.#chains[i])) return void (await sink?.remove());
    const lowers = lowersOf(this.#dirs, i);
    if (sink) {
      try {
        await sink.finish(lowers);
        return await this.#snapshots.commitTemp(this.#chains[i], sink.dir);
      } catch (err) {
        // A bomb is not unpacked twice; anything else is, from the stored blob.
        if (err instanceof LayerLimitError) throw err;
      } finally {
        await sink.remove();
      }
    }
    await this.#snapshots.build(this.#chains[i], this.layers[i], lowers, this.#fsops, this.limits);
  }

  /** Stops every unpacker and removes what was not committed. */
  async discard(): Promise<void> {
    for (const sink of this.#sinks.values()) sink.abandon();
    for (const sink of this.#sinks.values()) await sink.remove();
    this.#sinks.clear();
    await this.#fsops.close();
  }
}
