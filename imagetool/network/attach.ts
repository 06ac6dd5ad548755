// The work of the OCI hooks: attach a container's network namespace to a
// network (CNI ADD) and detach it (CNI DEL). Both leave nothing behind on
// failure, and detach is idempotent: it undoes whatever the record says exists.
import { existsSync } from 'node:fs';
import { cniAdd, cniDel, loopbackUp, type CniInvocation, type PortMapping, DEFAULT_CNI_PATH } from './cni.js';
import { type NetworkDirs, netnsPath, attachmentPath } from './dirs.js';
import { readAttachment, writeAttachment, removeAttachment, validateId, type Attachment } from './attachment.js';
import { readConflist, configLock } from './store.js';
import { reservePorts, releasePorts } from './publish.js';
import { pinNetns, unpinNetns, isPinned } from './netns.js';
import { withLock } from './lock.js';
import { writeHostsFile } from './etc-files.js';
import { NetworkError } from './errors.js';

export const IFNAME = 'eth0';

export interface AttachOptions {
  network: string;
  publish: PortMapping[];
  ip?: string;
  cniPath?: string;
  /** The bundle's generated /etc/hosts, rewritten in place with the container's address. */
  hostsFile?: string;
  hostname?: string;
}

function invocation(d: NetworkDirs, a: Attachment, cniPath: string): CniInvocation {
  const ns = netnsPath(d, a.id);
  return {
    containerId: a.id,
    netns: isPinned(ns) ? ns : '',
    ifname: a.ifname,
    args: a.cniArgs,
    cniPath,
    capabilityArgs: a.portMappings.length ? { portMappings: a.portMappings } : {},
  };
}

/** CNI ADD for container `id` whose init process is `pid`; returns the record with the result. */
export async function attach(d: NetworkDirs, id: string, pid: number, o: AttachOptions): Promise<Attachment> {
  validateId(id);
  const cniPath = o.cniPath ?? DEFAULT_CNI_PATH;
  // Registered under the config lock: `network rm` either sees this container or ran first.
  const a = await withLock(configLock(d), () => {
    const conflist = readConflist(d, o.network);
    if (existsSync(attachmentPath(d, id))) throw new NetworkError(`container ${id} is already attached to a network`);
    const rec: Attachment = {
      id,
      network: o.network,
      conflist,
      ifname: IFNAME,
      cniArgs: ['IgnoreUnknown=1', ...(o.ip ? [`IP=${o.ip}`] : [])].join(';'),
      portMappings: o.publish,
      started: 0,
      status: 'attaching',
    };
    writeAttachment(d, rec);
    return rec;
  });
  try {
    reservePorts(d, id, o.publish);
    pinNetns(netnsPath(d, id), pid);
    const inv = invocation(d, a, cniPath);
    a.result = await cniAdd(a.conflist, inv, (started, result) => {
      a.started = started;
      a.result = result;
      writeAttachment(d, a);
    });
    await loopbackUp(inv);
    a.status = 'attached';
    writeAttachment(d, a);
    const ip = a.result.ips?.[0]?.address.split('/')[0];
    if (o.hostsFile && o.hostname && ip) writeHostsFile(o.hostsFile, o.hostname, ip);
    return a;
  } catch (e) {
    await detach(d, id, cniPath).catch(() => {}); // the attach error is the one to report
    throw e;
  }
}

/**
 * CNI DEL for container `id`, from its record: works when the container is
 * gone, was never fully attached, or was already detached (then it does nothing).
 */
export async function detach(d: NetworkDirs, id: string, cniPath = DEFAULT_CNI_PATH): Promise<void> {
  validateId(id);
  const a = readAttachment(d, id);
  if (a && a.started > 0) {
    const ran = { ...a.conflist, plugins: a.conflist.plugins.slice(0, a.started) };
    // On failure everything stays (record, netns, ports) so a retried detach can finish.
    await cniDel(ran, invocation(d, a, cniPath), a.result);
  }
  unpinNetns(netnsPath(d, id));
  releasePorts(d, id);
  removeAttachment(d, id);
}
