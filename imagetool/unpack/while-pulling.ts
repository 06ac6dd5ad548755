// Layer snapshots made while the layers download: each layer's bytes go to its
// blob writer and, as they arrive, through gunzip and the tar reader into a
// temporary snapshot, all layers at once. A layer is applied without its lower
// snapshots (they are being made at the same time); what needs them (implicit
// parent dirs) is finished when they are in place. Nothing becomes a snapshot
// before its blob was verified and stored and its diff_id checked; the
// snapshots are committed bottom-up, each on top of the ones below. Unpacking
// here is an optimisation only: a layer that cannot be unpacked this way (zstd,
// a hardlink into a lower layer, a refused entry, a resumed-from-scratch
// download) is left to `bundle`, which unpacks it from the stored blob and
// reports what is wrong with it.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { FsOps } from '../fsops/client.js';
import type { LayerApplier } from './apply-layer.js';
import { compressionOf, gunzip } from './decompress.js';
import { applyLayerStream } from './layer-blob.js';
import { chainIds, SnapshotStore } from './snapshots.js';

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
    private readonly layer: { digest: string; diffId: string },
    private readonly fsops: FsOps,
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
      return applyLayerStream(source, this.layer, { root: join(this.dir, 'fs'), mode: 'overlay', fsops: this.fsops, deferLowers: true });
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
  readonly #sinks = new Map<number, LayerSink>();
  readonly #fsops = new FsOps();

  /** Undefined when the config's diff_ids do not match the layers (bundle reports that). */
  static create(store: { snapshotDir: string; tmpDir: string }, layerCount: number, diffIds: string[] | undefined): SnapshotsWhilePulling | undefined {
    if (!diffIds || diffIds.length !== layerCount) return undefined;
    return new SnapshotsWhilePulling(new SnapshotStore(store), diffIds);
  }

  private constructor(
    snapshots: SnapshotStore,
    private readonly diffIds: string[],
  ) {
    this.#snapshots = snapshots;
    this.#chains = chainIds(diffIds);
  }

  /** A sink for layer `i` (blob digest `digest`), or undefined if its snapshot exists already. */
  async sink(i: number, digest: string): Promise<LayerSink | undefined> {
    if (await this.#snapshots.exists(this.#chains[i])) return undefined;
    const sink = new LayerSink(await this.#snapshots.makeTemp(), { digest, diffId: this.diffIds[i] }, this.#fsops);
    this.#sinks.set(i, sink);
    return sink;
  }

  /**
   * Every layer's blob is stored and verified: commits the snapshots bottom-up,
   * up to the first layer that has none (that one and those above it are left
   * to bundle). Never throws: the pull itself succeeded.
   */
  async commit(): Promise<void> {
    try {
      for (let i = 0; i < this.#chains.length; i++) {
        if (await this.#snapshots.exists(this.#chains[i])) continue;
        const sink = this.#sinks.get(i);
        if (!sink || sink.failed) break;
        const lowers = this.#chains.slice(0, i).map((c) => this.#snapshots.fsDir(c)).reverse();
        const ok = await sink.finish(lowers).then(
          () => true,
          () => false,
        );
        if (!ok) break;
        await this.#snapshots.commitTemp(this.#chains[i], sink.dir);
      }
    } catch {
      // A snapshot that could not be moved into place is made again by bundle.
    } finally {
      await this.discard();
    }
  }

  /** Stops every unpacker and removes what was not committed. */
  async discard(): Promise<void> {
    for (const sink of this.#sinks.values()) sink.abandon();
    for (const sink of this.#sinks.values()) await sink.remove();
    this.#sinks.clear();
    await this.#fsops.close();
  }
}
