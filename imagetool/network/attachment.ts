// The record of one container's attachment, kept in the state dir under its id:
// everything a DEL needs (the conflist as it was at ADD, the plugins that ran,
// their result, the pinned netns, the ports) so detach works after the network
// changed, the container died, or the attaching hook crashed half-way.
import { readFileSync, writeFileSync, renameSync, unlinkSync, mkdirSync } from 'node:fs';
import type { Conflist } from './conflist.js';
import type { CniResult, PortMapping } from './cni.js';
import { type NetworkDirs, attachmentPath, attachmentsDir } from './dirs.js';
import { NetworkError } from './errors.js';

export interface Attachment {
  id: string;
  network: string;
  conflist: Conflist;
  ifname: string;
  cniArgs: string;
  portMappings: PortMapping[];
  /** How many plugins of `conflist` have been started by ADD (a DEL undoes only those). */
  started: number;
  result?: CniResult;
  status: 'attaching' | 'attached';
}

// Ids come from the runtime's state; they name files here, so no path tricks.
const ID = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]{0,1023}$/;

export function validateId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID.test(id)) throw new NetworkError(`invalid container id ${JSON.stringify(id)}`);
}

export function readAttachment(d: NetworkDirs, id: string): Attachment | undefined {
  try {
    return JSON.parse(readFileSync(attachmentPath(d, id), 'utf8')) as Attachment;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NetworkError(`${attachmentPath(d, id)}: ${(e as Error).message}`);
  }
}

/** Replaces the record atomically (a reader never sees half of it). */
export function writeAttachment(d: NetworkDirs, a: Attachment): void {
  mkdirSync(attachmentsDir(d), { recursive: true });
  const file = attachmentPath(d, a.id);
  writeFileSync(`${file}.tmp`, JSON.stringify(a));
  renameSync(`${file}.tmp`, file);
}

export function removeAttachment(d: NetworkDirs, id: string): void {
  try {
    unlinkSync(attachmentPath(d, id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
