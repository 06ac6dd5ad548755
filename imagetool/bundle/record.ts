// rocker-bundle.json: what `rocker-image bundle` made, for unbundle and commit.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RockerError } from '../../runtime/errors.js';

export const RECORD_FILE = 'rocker-bundle.json';

export interface BundleRecord {
  /** The image as it was named, and what that resolved to. */
  image: string;
  manifest: string;
  config: string;
  /** The store the image and its snapshots are in. */
  store: string;
  mode: 'overlay' | 'flat';
  /** Overlay mode: the snapshot dirs stacked under the bundle, topmost first. */
  lowerdirs?: string[];
}

/** Paths inside a bundle directory. */
export const bundlePaths = (dir: string) => ({
  config: join(dir, 'config.json'),
  rootfs: join(dir, 'rootfs'),
  upper: join(dir, 'overlay', 'upper'),
  work: join(dir, 'overlay', 'work'),
  volumes: join(dir, 'volumes'),
  record: join(dir, RECORD_FILE),
});

export async function readBundleRecord(dir: string): Promise<BundleRecord> {
  const path = bundlePaths(dir).record;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BundleRecord;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not a bundle made by rocker-image (no rocker-bundle.json)' : (err as Error).message;
    throw new RockerError(`${dir}: ${why}`);
  }
}
