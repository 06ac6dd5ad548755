// rocker-image bundle: an OCI runtime bundle from a stored image. The rootfs is
// an overlay of the image's layer snapshots with the bundle's own upper dir
// (or, --flat, one plain directory); config.json is the runtime's default spec
// with the image config and the run flags applied.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { RockerError } from '../../runtime/errors.js';
import { defaultSpec } from '../../runtime/spec/default-spec.js';
import type { OciConfig, OciMount } from '../../runtime/spec/types.js';
import { FsOps } from '../fsops/client.js';
import { writeFileAtomic } from '../store/fsutil.js';
import type { ResolvedImage, Store } from '../store/index.js';
import { DEFAULT_LAYER_LIMITS, type LayerLimits } from '../unpack/limits.js';
import { layerBlobs, SnapshotStore } from '../unpack/snapshots.js';
import { applyImageConfig, runConfigOf } from './image-config.js';
import { resolveInRootfs } from './in-rootfs.js';
import { mountOverlay, unmount } from './overlay-mount.js';
import { bundlePaths, type BundleRecord } from './record.js';
import { applyRunOptions, type RunOptions } from './run-options.js';
import { resolveGroups, resolveUser } from './user.js';
import { applySecurity, type SecurityOptions } from './engine-defaults.js';

const run = promisify(execFile);

export interface BundleOptions extends RunOptions, SecurityOptions {
  flat?: boolean;
  /** --group-add: supplementary groups (gids or names in the image). */
  groupAdd?: string[];
  /** Replaces the image's Cmd (the arguments after `--`). */
  args?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd). */
  entrypoint?: string;
  /**
   * Networking (--network, --publish, --ip, --dns) belongs to the network
   * module: it adds namespaces, hooks and mounts to the spec here.
   */
  network?: (spec: OciConfig, bundleDir: string) => Promise<void>;
  /** What a layer may expand to while it is unpacked (default: DEFAULT_LAYER_LIMITS). */
  limits?: LayerLimits;
}

/** Builds the rootfs; returns the overlay lowerdirs (topmost first) in overlay mode. */
async function makeRootfs(store: Store, image: ResolvedImage, dir: string, flat: boolean, limits: LayerLimits): Promise<string[] | undefined> {
  const paths = bundlePaths(dir);
  const fsops = new FsOps();
  try {
    if (flat) {
      const { unpackFlat } = await import('../unpack/flat.js');
      return void (await unpackFlat(paths.rootfs, layerBlobs(store, image), fsops, limits));
    }
    const snapshotStore = new SnapshotStore(store);
    const snapshots = await snapshotStore.prepare(layerBlobs(store, image), fsops, limits);
    const lowers = snapshots.reverse();
    for (const d of [paths.rootfs, paths.upper, paths.work]) await mkdir(d, { recursive: true, mode: 0o755 });
    await mountOverlay(paths.rootfs, lowers, paths.upper, paths.work, snapshotStore.root);
    return lowers;
  } finally {
    await fsops.close();
  }
}

/**
 * Config.Volumes: each gets a directory in the bundle, seeded with what the
 * image has there, bind-mounted so its data stays out of the rootfs (and out
 * of a commit). A -v for the same path replaces it.
 */
async function imageVolumes(spec: OciConfig, volumes: string[], dir: string, rootfs: string): Promise<void> {
  const taken = new Set((spec.mounts ?? []).map((m) => m.destination));
  const added: OciMount[] = [];
  for (const [i, destination] of volumes.entries()) {
    if (taken.has(destination)) continue;
    const source = `${bundlePaths(dir).volumes}/${i}`;
    await mkdir(source, { recursive: true, mode: 0o755 });
    const seed = await resolveInRootfs(rootfs, destination);
    if (seed && (await readdir(seed).catch(() => null))) await run('cp', ['-a', '--no-dereference', `${seed}/.`, source]);
    added.push({ destination, type: 'bind', source, options: ['rbind', 'rw'] });
  }
  spec.mounts = [...(spec.mounts ?? []), ...added];
}

async function makeConfig(image: ResolvedImage, dir: string, o: BundleOptions): Promise<OciConfig> {
  const paths = bundlePaths(dir);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.root = { path: 'rootfs', readonly: false };
  applyImageConfig(spec, image.config, o.args, o.entrypoint);
  const runConfig = runConfigOf(image.config);
  const user = await resolveUser(paths.rootfs, o.user ?? runConfig.User);
  if (o.groupAdd?.length) {
    user.additionalGids = [...new Set([...(user.additionalGids ?? []), ...(await resolveGroups(paths.rootfs, o.groupAdd))])];
  }
  spec.process!.user = user;
  await applyRunOptions(spec, o);
  await imageVolumes(spec, Object.keys(runConfig.Volumes ?? {}), dir, paths.rootfs);
  await o.network?.(spec, dir);
  await applySecurity(spec, o);
  // Not schema-validated here: it is built from typed parts, and the runtime
  // validates config.json when it creates the container (compiling the runtime
  // spec's validator would cost a bundle ~10 ms).
  return spec;
}

/**
 * The bundle dir is root's alone (0700, as umoci makes it, also when it was there
 * already): the image's setuid files and device nodes are in its rootfs, and a
 * host user who could reach them would run them with their owner's rights
 * (CVE-2021-41091). The container does not need the bundle's mode: the runtime
 * opens the rootfs as root.
 */
async function ensureEmptyDir(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (entries?.length) throw new RockerError(`bundle ${dir}: the directory is not empty`);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o700);
  return entries === null;
}

export async function createBundle(store: Store, imageName: string, dir: string, o: BundleOptions, image?: ResolvedImage): Promise<BundleRecord> {
  image ??= await store.resolve(imageName);
  const createdDir = await ensureEmptyDir(dir);
  const paths = bundlePaths(dir);
  let mounted = false;
  try {
    const lowerdirs = await makeRootfs(store, image, dir, o.flat ?? false, o.limits ?? DEFAULT_LAYER_LIMITS);
    mounted = lowerdirs !== undefined;
    const spec = await makeConfig(image, dir, o);
    // Both whole or absent, so whatever finds a bundle cut short by a kill can still read or remove it;
    // the record, written last, marks a finished bundle.
    await writeFileAtomic(paths.config, JSON.stringify(spec, null, '\t') + '\n', { mode: 0o600, durable: false });
    const record: BundleRecord = {
      image: image.name ?? imageName,
      manifest: image.manifestDescriptor.digest,
      config: image.configDescriptor.digest,
      store: store.root,
      mode: o.flat ? 'flat' : 'overlay',
      ...(lowerdirs ? { lowerdirs } : {}),
    };
    await writeFileAtomic(paths.record, JSON.stringify(record, null, 2) + '\n', { mode: 0o600, durable: false });
    return record;
  } catch (err) {
    // Leave nothing behind: a failed bundle is no bundle.
    if (mounted) await unmount(paths.rootfs).catch(() => {});
    if (createdDir) await rm(dir, { recursive: true, force: true });
    else for (const name of await readdir(dir).catch(() => [])) await rm(`${dir}/${name}`, { recursive: true, force: true });
    throw err;
  }
}
