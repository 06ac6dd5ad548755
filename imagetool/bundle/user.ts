// Config.User ("user", "uid", "user:group", "uid:gid") to process.user, with
// names looked up in the image's own /etc/passwd and /etc/group.
import { RockerError } from '../../runtime/errors.js';
import { readRootfsFile } from './in-rootfs.js';

export interface ProcessUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export class UserLookupError extends RockerError {}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const isNumeric = (s: string) => /^[0-9]+$/.test(s);

function parseColonFile(text: string | null): string[][] {
  return (text ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

const parsePasswd = (text: string | null): PasswdEntry[] =>
  parseColonFile(text)
    .filter((f) => f.length >= 4 && isNumeric(f[2]) && isNumeric(f[3]))
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }));

const parseGroup = (text: string | null): GroupEntry[] =>
  parseColonFile(text)
    .filter((f) => f.length >= 3 && isNumeric(f[2]))
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));

/** Resolves `spec` (an image's Config.User or a --user flag) against the rootfs at `rootfs`. */
export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ProcessUser> {
  if (!spec) return { uid: 0, gid: 0 };
  const [userPart, groupPart] = spec.split(':', 2);
  const needPasswd = !isNumeric(userPart) || groupPart === undefined;
  const passwd = needPasswd ? parsePasswd(await readRootfsFile(rootfs, '/etc/passwd')) : [];
  const groups = groupPart !== undefined && isNumeric(groupPart) ? [] : parseGroup(await readRootfsFile(rootfs, '/etc/group'));

  let uid: number;
  let gid = 0;
  let name: string | undefined;
  if (isNumeric(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) ({ gid, name } = entry);
  } else {
    const entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new UserLookupError(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, name } = entry);
  }

  if (groupPart !== undefined) {
    if (isNumeric(groupPart)) return { uid, gid: Number(groupPart) };
    const group = groups.find((g) => g.name === groupPart);
    if (!group) throw new UserLookupError(`unable to find group ${groupPart}: no matching entries in group file`);
    return { uid, gid: group.gid };
  }
  // Supplementary groups come from a user *name*; a bare numeric user keeps none (conversion.md).
  if (!isNumeric(userPart) && name) {
    const additionalGids = [...new Set(groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid))];
    if (additionalGids.length) return { uid, gid, additionalGids };
  }
  return { uid, gid };
}

/** --group-add: numeric gids, or group names looked up in the image's /etc/group. */
export async function resolveGroups(rootfs: string, names: string[]): Promise<number[]> {
  const groups = names.every(isNumeric) ? [] : parseGroup(await readRootfsFile(rootfs, '/etc/group'));
  return names.map((n) => {
    if (isNumeric(n)) return Number(n);
    const g = groups.find((e) => e.name === n);
    if (!g) throw new UserLookupError(`unable to find group ${n}: no matching entries in group file`);
    return g.gid;
  });
}
