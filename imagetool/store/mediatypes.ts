// Media types the store and the registry client understand, and the one-way
// conversion of Docker schema 2 documents into their OCI equivalents (what
// skopeo does when copying into an `oci:` layout), so umoci and skopeo can read
// every stored image.

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerForeignGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const MANIFEST_TYPES: readonly string[] = [MT.ociManifest, MT.dockerManifest];
export const INDEX_TYPES: readonly string[] = [MT.ociIndex, MT.dockerList];
export const SCHEMA1_TYPES: readonly string[] = [MT.dockerSchema1, MT.dockerSchema1Signed];

export const isManifestType = (t: string | undefined): boolean => !!t && MANIFEST_TYPES.includes(t);
export const isIndexType = (t: string | undefined): boolean => !!t && INDEX_TYPES.includes(t);

const DOCKER_TO_OCI: Record<string, string> = {
  [MT.dockerManifest]: MT.ociManifest,
  [MT.dockerList]: MT.ociIndex,
  [MT.dockerConfig]: MT.ociConfig,
  [MT.dockerLayerGzip]: MT.ociLayerGzip,
  [MT.dockerLayerTar]: MT.ociLayerTar,
  [MT.dockerForeignGzip]: MT.ociLayerForeignGzip,
};

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** The parts of an image config rocker reads (the rest is kept as is). */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
}

const ociType = (t: string): string => DOCKER_TO_OCI[t] ?? t;

/** An OCI manifest with the same config and layer bytes as a Docker schema 2 one. */
export function dockerManifestToOci(m: ImageManifest): ImageManifest {
  const conv = (d: Descriptor): Descriptor => ({ ...d, mediaType: ociType(d.mediaType) });
  const out: ImageManifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: conv(m.config), layers: m.layers.map(conv) };
  if (m.annotations) out.annotations = m.annotations;
  return out;
}
