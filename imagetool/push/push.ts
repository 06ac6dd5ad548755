// rocker-image push: a stored image to a registry. Blobs first (each checked,
// mounted from a sibling repository when possible, else uploaded), the
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

const BASE_NAME = 'org.opencontainers.image.base.name';

/** Repositories on `domain` other than `path` that this image's blobs may already be in. */
function mountSources(domain: string, path: string, names: (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const name of names) {
    if (!name) continue;
    try {
      const ref = parseReference(name);
      if (ref.domain === domain && ref.path !== path) out.add(ref.path);
    } catch {
      // An annotation that is not a reference names no repository.
    }
  }
  return [...out];
}

export async function push(store: Store, source: string, destination: string | undefined, o: PushOptions): Promise<PushResult> {
  const image = await store.resolve(source, o.platform);
  const dest = parseReference(destination ?? image.name ?? source);
  if (dest.digest) throw new RegistryError(`push ${formatReference(dest)}: push to a tag, not a digest`);
  const tag = dest.tag ?? 'latest';
  const endpoint = endpointsFor(dest.domain, o.registries, o.insecureRegistries ?? []).find((e) => !e.mirror)!;
  const client = new RegistryClient(endpoint, dest.path, { credentials: await lookupCredentials(dest.domain), actions: ['pull', 'push'] });
  const mountFrom = mountSources(dest.domain, dest.path, [image.name, image.manifest.annotations?.[BASE_NAME]]);
  for (const d of [...image.layers, image.configDescriptor]) {
    o.onBlob?.(d, await pushBlob(client, d, store.blobPath(d.digest), { mountFrom, chunkSize: o.chunkSize }));
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
