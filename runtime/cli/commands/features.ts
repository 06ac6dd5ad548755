// `features`: the runtime-spec features.md document, built from the tables the
// code checks configs against, plus what nsexec reports about seccomp
// (`nsexec --features`) when it offers that.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { CAPABILITIES, MOUNT_OPTIONS, NAMESPACES } from '../../spec/support.js';
import { HOOK_NAMES, SPEC_VERSION } from '../../spec/types.js';
import { writeOut } from '../output.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'features',
  usage: '',
  description: 'show the enabled features',
  flags: [],
  maxArgs: 0,
};

const NSEXEC = fileURLToPath(new URL('../../../nsexec', import.meta.url));

/** nsexec's own report (seccomp actions, operators, archs, flags), or {} when it has none. */
async function nsexecFeatures(): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await promisify(execFile)(NSEXEC, ['--features'], { timeout: 5000 });
    const parsed = JSON.parse(stdout) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function cgroupSupport(): { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean } {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  return { v1: / cgroup /.test(mounts), v2: / cgroup2 /.test(mounts), systemd: false, systemdUser: false, rdma: false };
}

export async function run(_ctx: CommandContext, _parsed: ParsedArgs): Promise<number> {
  const fromNsexec = await nsexecFeatures();
  const seccomp = (fromNsexec.seccomp as Record<string, unknown> | undefined) ?? { enabled: false };
  const info = JSON.parse(readFileSync(new URL('../../../build-info.json', import.meta.url), 'utf8')) as { version: string; commit: string };
  const features = {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: (fromNsexec.mountOptions as string[] | undefined) ?? MOUNT_OPTIONS,
    linux: {
      namespaces: NAMESPACES,
      capabilities: CAPABILITIES,
      cgroup: cgroupSupport(),
      seccomp,
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.rocker.version': info.version, 'org.rocker.commit': info.commit },
  };
  writeOut(JSON.stringify(features, null, 4) + '\n');
  return 0;
}
