// Builds protocol v1 `init` messages from a validated config (create) or a
// process (exec). Paths nsexec needs are made absolute here, once.
import { isAbsolute, join } from 'node:path';
import type { OciConfig, OciMount, OciProcess } from '../spec/types.js';
import type { CgroupJoinTargets } from '../cgroups/manager.js';

export interface CreateInitOptions {
  config: OciConfig;
  bundle: string;
  rootfs: string;
  /** Absent: the init does not wait for `start`. */
  execFifo?: string;
  foreground: boolean;
  startOnContinue: boolean;
  consoleSocket?: string;
  preserveFds: number;
  noPivot: boolean;
  noNewKeyring: boolean;
  cgroups: CgroupJoinTargets;
}

function isBind(m: OciMount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** Bind sources are relative to the bundle (config.md); other sources are names. */
function absoluteMounts(mounts: OciMount[] | undefined, bundle: string): OciMount[] {
  return (mounts ?? []).map((m) =>
    m.source !== undefined && isBind(m) && !isAbsolute(m.source) ? { ...m, source: join(bundle, m.source) } : m,
  );
}

/** Where the pty master goes: the console socket, or (foreground only) nsexec's relay to the caller's terminal. */
function terminalRoute(terminal: boolean | undefined, foreground: boolean, consoleSocket: string | undefined): object {
  if (consoleSocket) return { consoleSocket };
  return terminal && foreground ? { relayTerminal: true } : {};
}

export function createInit(o: CreateInitOptions): object {
  const { config } = o;
  const hooks = config.hooks ?? {};
  const namespaces = config.linux?.namespaces ?? [];
  const seccomp = config.linux?.seccomp as { listenerPath?: string } | undefined;
  return {
    type: 'init',
    version: 1,
    mode: 'create',
    foreground: o.foreground,
    rootfs: o.rootfs,
    rootfsReadonly: config.root?.readonly ?? false,
    noPivot: o.noPivot,
    noNewKeyring: o.noNewKeyring,
    execFifo: o.execFifo,
    startOnContinue: o.startOnContinue,
    ...terminalRoute(config.process?.terminal, o.foreground, o.consoleSocket),
    preserveFds: o.preserveFds,
    ...(config.hostname !== undefined ? { hostname: config.hostname } : {}),
    ...(config.domainname !== undefined ? { domainname: config.domainname } : {}),
    process: config.process,
    mounts: absoluteMounts(config.mounts, o.bundle),
    linux: config.linux ?? {},
    hooks: { createContainer: hooks.createContainer ?? [], startContainer: hooks.startContainer ?? [] },
    // A new cgroup namespace must be rooted at the container's cgroup, which the child joins first.
    cgroupNamespaceAfterJoin: namespaces.some((n) => n.type === 'cgroup' && !n.path),
    cgroups: o.cgroups,
    // The createRuntime stop is a round trip: made only for the runtime's hooks there, or to hand
    // the state to hooks and a seccomp listener inside the container.
    createRuntimeSync: [hooks.prestart, hooks.createRuntime, hooks.createContainer, hooks.startContainer].some((h) => h?.length) || !!seccomp?.listenerPath,
  };
}

export interface ExecInitOptions {
  process: OciProcess;
  joinPid: number;
  linux: OciConfig['linux'];
  foreground: boolean;
  consoleSocket?: string;
  preserveFds: number;
  /** The container's cgroups: nsexec's child places itself, and no `continue` follows `pid`. */
  cgroups?: CgroupJoinTargets;
  /** The OCI state JSON for a seccomp listener (with `cgroups`, there is no `continue` to carry it). */
  state?: string;
  /** Where nsexec keeps the container's compiled seccomp program between execs. */
  seccompCache?: string;
}

export function execInit(o: ExecInitOptions): object {
  return {
    type: 'init',
    version: 1,
    mode: 'exec',
    foreground: o.foreground,
    joinPid: o.joinPid,
    ...terminalRoute(o.process.terminal, o.foreground, o.consoleSocket),
    preserveFds: o.preserveFds,
    process: o.process,
    linux: o.linux ?? {},
    ...(o.cgroups ? { cgroups: o.cgroups } : {}),
    ...(o.state !== undefined ? { state: o.state } : {}),
    ...(o.seccompCache ? { seccompCache: o.seccompCache } : {}),
  };
}
