// One row per stored ref, shared by `images` and tests of it.
import { formatPlatform, type Platform, type Store } from '../store/index.js';

export interface ImageRow {
  name: string;
  repository: string;
  tag?: string;
  digest: string;
  /** The image id: its config digest. */
  id: string;
  created?: string;
  platform: string;
  /** Compressed size: manifest, config and layers. */
  size: number;
  /** Set when the ref's content cannot be read (damaged or missing blobs). */
  error?: string;
}

function splitName(name: string): { repository: string; tag?: string } {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? { repository: base.slice(0, colon), tag: base.slice(colon + 1) } : { repository: base };
}

export async function listImages(store: Store, platform: Platform): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  for (const ref of await store.listRefs()) {
    const base = { name: ref.name, ...splitName(ref.name), digest: ref.descriptor.digest };
    try {
      const img = await store.resolveDescriptor(ref.descriptor, platform, ref.name);
      const size = img.manifestDescriptor.size + img.configDescriptor.size + img.layers.reduce((n, l) => n + l.size, 0);
      rows.push({ ...base, id: img.configDescriptor.digest, created: img.config.created, platform: formatPlatform(img.config), size });
    } catch (e) {
      rows.push({ ...base, id: '', platform: '', size: 0, error: (e as Error).message });
    }
  }
  return rows;
}
