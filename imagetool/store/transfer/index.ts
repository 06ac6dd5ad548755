// `transport:path[:ref]` locations for import/export, as skopeo writes them:
// oci:<dir>[:<ref>], oci-archive:<file>[:<ref>], docker-archive:<file>[:<name:tag>].
// The path ends at the first colon after the transport (as in skopeo).
import { UsageError } from '../../../runtime/errors.js';
import type { Platform } from '../mediatypes.js';
import type { ResolvedImage, Store } from '../index.js';
import { exportOciLayout, importOciLayout } from './oci-layout.js';
import { exportDockerArchive, exportOciArchive, importDockerArchive, importOciArchive } from './archive.js';

export type Transport = 'oci' | 'oci-archive' | 'docker-archive';

export interface Location {
  transport: Transport;
  path: string;
  ref?: string;
}

export function parseLocation(input: string): Location {
  const m = /^(oci|oci-archive|docker-archive):([^:]+)(?::(.+))?$/.exec(input);
  if (!m) throw new UsageError(`invalid location "${input}": expected oci:<dir>[:<ref>], oci-archive:<file>[:<ref>] or docker-archive:<file>[:<name>]`);
  return { transport: m[1] as Transport, path: m[2], ref: m[3] };
}

/** Imports the image at `loc` into the store; returns the ref name it got. */
export function importImage(store: Store, loc: Location, name: string | undefined, platform: Platform): Promise<string> {
  switch (loc.transport) {
    case 'oci':
      return importOciLayout(store, loc.path, loc.ref, name, platform);
    case 'oci-archive':
      return importOciArchive(store, loc.path, loc.ref, name, platform);
    case 'docker-archive':
      return importDockerArchive(store, loc.path, loc.ref, name);
  }
}

/** Writes `img` to `loc`; the ref there defaults to the image's name in the store. */
export function exportImage(store: Store, img: ResolvedImage, loc: Location): Promise<void> {
  const ref = loc.ref ?? img.name;
  switch (loc.transport) {
    case 'oci':
    case 'oci-archive':
      if (!ref) throw new UsageError(`give a ref for the image in ${loc.transport}:${loc.path}:<ref>`);
      return loc.transport === 'oci' ? exportOciLayout(store, img, loc.path, ref) : exportOciArchive(store, img, loc.path, ref);
    case 'docker-archive':
      return exportDockerArchive(store, img, loc.path, ref);
  }
}
