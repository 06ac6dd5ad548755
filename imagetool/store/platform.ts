// Platform selection: `--platform os/arch[/variant]`, defaulting to the host,
// matched against index entries the way containerd's default matcher does
// (arm64 without a variant means v8; arm without one means v7).
import { RockerError } from '../../runtime/errors.js';
import type { Descriptor, ImageConfig, Platform } from './mediatypes.js';

export class PlatformError extends RockerError {}

const NODE_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: process.platform, architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  return p;
}

export function parsePlatform(spec: string | undefined): Platform {
  if (!spec) return hostPlatform();
  const parts = spec.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new PlatformError(`invalid platform "${spec}": expected os/arch[/variant]`);
  }
  const [os, arch, variant] = parts;
  const architecture = arch === 'x86_64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch;
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function defaultVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  return defaultVariant(want) === defaultVariant(have);
}

/** The index entry for `want`, or a clear error listing what is available. */
export function selectManifest(entries: Descriptor[], want: Platform, what: string): Descriptor {
  const found = entries.find((d) => platformMatches(want, d.platform));
  if (found) return found;
  const have = entries.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
  throw new PlatformError(`${what}: no manifest for platform ${formatPlatform(want)} (available: ${have || 'none'})`);
}

/** The platform an image config declares. */
export function configPlatform(c: ImageConfig): Platform {
  return c.variant ? { os: c.os, architecture: c.architecture, variant: c.variant } : { os: c.os, architecture: c.architecture };
}
