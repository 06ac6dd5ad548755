// rocker-image push: a stored image to a registry. Blobs first (each checked,
// mounted from another repository of the registry when possible, else uploaded), the
// manifest last, so the tag never names an incomplete image.
import { lookupCredentials } from '../registry/credentials.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryError } from '../registry/errors.js';
import { endpointsFor, type RegistriesConfig } from '../registry/hosts.js';
import { formatReference, parseReference } from '../reference/index.js';
import type { Descriptor, Platform, Store } from '../store/index.js';
import { pushBlob, type BlobOutcome } from './blob-upload.js';

export interface PushOptions {
  platform?: Platform;
  registries: RegistriesConfig;
  insecureRegistries?: string[];
  chunkSize?: number;
  onBlob?: (d: Descriptor, outcome: BlobOutcome) => void;
}

export interface PushResult {
  destination: string;
  digest: string;
}

/**
 * For each blob, a repository on the destination registry that should already
 * hold it: one that another stored ref on the same registry names, with the
 * blob in its image. The registry can then link it instead of receiving it.
 */
async function mountSources(store: Store, domain: string, path: string, platform: Platform | undefined): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const entry of await store.listRefs()) {
    let ref;
    try {
      ref = parseReference(entry.name);
    } catch {
      continue; // a layout ref that is not a registry reference (e.g. umoci's tags)
    }
    if (ref.domain !== domain || ref.path === path) continue;
    const image = await store.resolveDescriptor(entry.descriptor, platform).catch(() => null);
    for (const d of image ? [...image.layers, image.configDescriptor] : []) if (!sources.has(d.digest)) sources.set(d.digest, ref.path);
  }
  return sources;
}

export async function push(store: Store, source: string, destination: string | undefined, o: PushOptions): Promise<PushResult> {
  const image = await store.resolve(source, o.platform);
  const dest = parseReference(destination ?? image.name ?? source);
  if (dest.digest) throw new RegistryError(`push ${formatReference(dest)}: push to a tag, not a digest`);
  const tag = dest.tag ?? 'latest';
  const endpoint = endpointsFor(dest.domain, o.registries, o.insecureRegistries ?? []).find((e) => !e.mirror)!;
  const client = new RegistryClient(endpoint, dest.path, { credentials: await lookupCredentials(dest.domain), actions: ['pull', 'push'] });
  const sources = await mountSources(store, dest.domain, dest.path, o.platform);
  for (const d of [...image.layers, image.configDescriptor]) {
    o.onBlob?.(d, await pushBlob(client, d, store.blobPath(d.digest), { mountFrom: sources.get(d.digest), chunkSize: o.chunkSize }));
  }
  const bytes = await store.readBlob(image.manifestDescriptor.digest);
  const res = await client.request(`manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': image.manifestDescriptor.mediaType, 'content-length': String(bytes.length) },
    body: bytes,
  });
  const text = await res.text().catch(() => '');
  if (res.status !== 201) throw new RegistryError(`push manifest ${formatReference(dest)}: HTTP ${res.status}${text ? `: ${text.trim().slice(0, 300)}` : ''}`, undefined, res.status);
  return { destination: formatReference({ ...dest, tag }), digest: image.manifestDescriptor.digest };
}
