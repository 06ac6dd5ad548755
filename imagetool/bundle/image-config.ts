// The image config applied to a runtime config, as the image spec's
// conversion.md describes: verbatim fields, annotations, parsed User, and
// Volumes / ExposedPorts as its optional fields.
import { posix } from 'node:path';
import type { OciConfig } from '../../runtime/spec/types.js';
import { RockerError } from '../../runtime/errors.js';
import type { ImageConfig } from '../store/index.js';

/** The `config` member of an image config (the fields conversion reads). */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export const runConfigOf = (image: ImageConfig): ImageRunConfig => (image.config ?? {}) as ImageRunConfig;

const envName = (entry: string) => entry.split('=', 1)[0];

/** `base` entries whose variable the image does not set come after the image's own (conversion.md note 1). */
export function mergeEnv(imageEnv: string[], base: string[]): string[] {
  const names = new Set(imageEnv.map(envName));
  return [...imageEnv, ...base.filter((e) => !names.has(envName(e)))];
}

/**
 * Entrypoint + Cmd; `cmdOverride` (the arguments after `--`) replaces Cmd, and
 * `entrypoint` (--entrypoint) replaces Entrypoint and drops the image's Cmd, as docker does.
 */
export function processArgs(run: ImageRunConfig, cmdOverride: string[] | undefined, entrypoint?: string): string[] {
  const entry = entrypoint === undefined ? (run.Entrypoint ?? []) : entrypoint ? [entrypoint] : [];
  const cmd = entrypoint === undefined ? (run.Cmd ?? []) : [];
  const args = [...entry, ...(cmdOverride?.length ? cmdOverride : cmd)];
  if (!args.length) throw new RockerError('the image has no Entrypoint or Cmd and no command was given');
  return args;
}

/** The implicit annotations of conversion.md, with Config.Labels taking precedence. */
export function imageAnnotations(image: ImageConfig): Record<string, string> {
  const run = runConfigOf(image);
  const extra = image as ImageConfig & { 'os.version'?: string; 'os.features'?: string[]; author?: string };
  const implicit: Record<string, string | undefined> = {
    'org.opencontainers.image.os': image.os,
    'org.opencontainers.image.architecture': image.architecture,
    'org.opencontainers.image.variant': image.variant,
    'org.opencontainers.image.os.version': extra['os.version'],
    'org.opencontainers.image.os.features': extra['os.features']?.join(','),
    'org.opencontainers.image.author': extra.author,
    'org.opencontainers.image.created': image.created,
    'org.opencontainers.image.stopSignal': run.StopSignal,
    'org.opencontainers.image.exposedPorts': run.ExposedPorts ? Object.keys(run.ExposedPorts).join(',') : undefined,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(implicit)) if (v) out[k] = v;
  return { ...out, ...(run.Labels ?? {}) };
}

/** Applies the verbatim and annotation fields; User and Volumes need the rootfs (see bundle.ts). */
export function applyImageConfig(spec: OciConfig, image: ImageConfig, cmdOverride?: string[], entrypoint?: string): void {
  const run = runConfigOf(image);
  const proc = spec.process!;
  proc.args = processArgs(run, cmdOverride, entrypoint);
  // TERM is for terminals only; the run flags add it back for -t.
  proc.env = mergeEnv(run.Env ?? [], (proc.env ?? []).filter((e) => envName(e) !== 'TERM'));
  // The runtime spec requires an absolute cwd; a relative WorkingDir is taken from /.
  if (run.WorkingDir) proc.cwd = posix.resolve('/', run.WorkingDir);
  spec.annotations = { ...(spec.annotations ?? {}), ...imageAnnotations(image) };
}
