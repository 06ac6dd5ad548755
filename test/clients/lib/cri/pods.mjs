// What the CRI test and the shim benchmark share: the runtime handlers, a private
// containerd serving them with the busybox images imported, and pod and container
// configs. Pods are host-network (no CNI, no traffic), each in its own cgroup parent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContainerdDaemon, CRI_NAMESPACE, RUNC_SHIM, ROCKER_SHIM } from '../containerd-daemon.mjs';
import { buildBusyboxArchive, BUSYBOX_REF, PAUSE_REF } from '../busybox-image.mjs';
import { runOk } from '../proc.mjs';

const bin = (name) => fileURLToPath(new URL(`../../../../bin/${name}`, import.meta.url));

/**
 * runc and rocker-runtime under containerd's runc shim, and the rocker shim (runtime
 * type io.containerd.rocker.v2, containerd-shim-rocker-v2 found on PATH) as soon as
 * bin/containerd-shim-rocker-v2 exists. CRI_HANDLERS="runc,rocker" narrows the list.
 * @returns {import('../containerd-daemon.mjs').CriHandler[]}
 */
export function criHandlers() {
  const all = [
    { name: 'runc', type: RUNC_SHIM, binary: '/usr/sbin/runc' },
    { name: 'rocker-runtime', type: RUNC_SHIM, binary: bin('rocker-runtime') },
    ...(existsSync(bin('containerd-shim-rocker-v2')) ? [{ name: 'rocker', type: ROCKER_SHIM }] : []),
  ];
  const only = process.env.CRI_HANDLERS?.split(',');
  if (!only) return all;
  const unknown = only.filter((n) => !all.some((h) => h.name === n));
  if (unknown.length) throw new Error(`CRI_HANDLERS: unknown or unavailable handler(s) ${unknown.join(', ')}; have ${all.map((h) => h.name).join(', ')}`);
  return all.filter((h) => only.includes(h.name));
}

/**
 * A containerd with CRI for handlers, the busybox and pause images in its CRI namespace;
 * and the busybox archive, for ctr in other namespaces.
 * @returns {Promise<{daemon: ContainerdDaemon, archive: string}>}
 */
export async function startCriDaemon(workDir, handlers) {
  const archives = [await buildBusyboxArchive(workDir), await buildBusyboxArchive(workDir, PAUSE_REF)];
  const daemon = await ContainerdDaemon.start({ cri: { sandboxImage: PAUSE_REF, handlers } });
  try {
    for (const archive of archives) await runOk('ctr', daemon.ctrArgv(CRI_NAMESPACE, ['image', 'import', archive]).slice(1));
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  return { daemon, archive: archives[0] };
}

// NamespaceMode: the pod shares the host's network (no CNI); each container has its own pid namespace.
const NODE = 'NODE';
const CONTAINER = 'CONTAINER';

/** A PodSandboxConfig: name unique, logs under logDir, cgroups under cgroupParent (cgroupfs). */
export function podConfig({ name, logDir, cgroupParent }) {
  return {
    metadata: { name, uid: name, namespace: 'rocker-tests', attempt: 0 },
    log_directory: logDir,
    linux: {
      cgroup_parent: cgroupParent,
      security_context: { namespace_options: { network: NODE, pid: CONTAINER, ipc: 'POD' } },
    },
  };
}

/** A ContainerConfig of the busybox image running command, logging to logPath (relative to the pod's log dir). */
export function containerConfig({ name, command, logPath = `${name}.log` }) {
  return {
    metadata: { name, attempt: 0 },
    image: { image: BUSYBOX_REF },
    command,
    log_path: logPath,
    linux: { security_context: { namespace_options: { network: NODE, pid: CONTAINER, ipc: 'POD' } } },
  };
}

/** The log file of a container: <pod log dir>/<log_path>. */
export const logFile = (pod, container) => join(pod.log_directory, container.log_path);
