// The parts of the OCI runtime config the TypeScript side reads. The schema
// (validated at load) guarantees the shapes; nsexec receives the objects whole.

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  [key: string]: unknown;
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export const HOOK_NAMES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
export type OciHooks = Partial<Record<HookName, OciHook[]>>;

export interface OciMount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
  [key: string]: unknown;
}

export interface OciNamespace {
  type: string;
  path?: string;
}

export interface OciLinux {
  namespaces?: OciNamespace[];
  cgroupsPath?: string;
  resources?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface OciConfig {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux?: OciLinux;
  [key: string]: unknown;
}

/** The runtime-spec version rocker implements (state and features report it). */
export const SPEC_VERSION = '1.3.0';
