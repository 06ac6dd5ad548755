// The front's own state: one directory per container under <root>/containers
// (beside the image store whose snapshots its bundle stacks on), and one symlink
// per name in <root>/containers/.names. Everything is written whole (temp file +
// rename) and in an order that leaves every crash point readable: the record is
// written before anything else exists, so `ps` and `rm -f` find any leftover.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../imagetool/store/fsutil.js';
import { readExitFile, type ExitRecord } from './monitor/exit-file.js';
export type { ExitRecord };
import { RockerError, UsageError } from '../runtime/errors.js';

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  /** The command as given on the command line (the image's own when empty). */
  command: string[];
  created: string;
  /** -p flags as given. */
  ports: string[];
  /** The runtime command (argv prefix) and its --root: later verbs use the same. */
  runtime: string[];
  runtimeRoot: string;
  /** run -d --rm: the monitor removes the container when it exits (rocker need not be there). */
  autoRemove?: boolean;
  /** run -i: the container's stdin is a pipe its monitor holds, written by attached clients. */
  stdin?: boolean;
  /** Set once the monitor reported the container created. */
  monitorPid?: number;
  initPid?: number;
}

/** docker's name rule; names are file names here, so it also keeps them path-safe. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ID = /^[0-9a-f]{64}$/;
export const SOCKET_DIR = '/run/rocker-front/sockets';

export class Containers {
  readonly dir: string;
  private readonly names: string;

  constructor(root: string) {
    this.dir = join(root, 'containers');
    this.names = join(this.dir, '.names');
  }

  paths(id: string) {
    const dir = join(this.dir, id);
    return {
      dir,
      record: join(dir, 'container.json'),
      bundle: join(dir, 'bundle'),
      log: join(dir, 'container.log'),
      exit: join(dir, 'exit.json'),
      pid: join(dir, 'init.pid'),
      runtimeLog: join(dir, 'runtime.log'),
      /** The monitor's control fifo, with a terminal: its size ("resize ROWS COLS"). */
      control: join(dir, 'control'),
      // Unix socket paths must fit in 108 bytes: a short fixed directory, not the container's.
      attach: join(SOCKET_DIR, `${id}.attach`),
      console: join(SOCKET_DIR, `${id}.console`),
    };
  }

  /** A new container: its directory and record, then its name (taken atomically). */
  async create(fields: Omit<ContainerRecord, 'id' | 'name' | 'created'> & { name?: string }): Promise<ContainerRecord> {
    const id = randomBytes(32).toString('hex');
    const name = fields.name ?? `rocker_${id.slice(0, 12)}`;
    if (!NAME.test(name)) throw new UsageError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    await mkdir(this.names, { recursive: true, mode: 0o700 });
    await mkdir(this.paths(id).dir, { mode: 0o700 });
    const record: ContainerRecord = { ...fields, id, name, created: new Date().toISOString() };
    await this.save(record);
    try {
      await this.claimName(name, id);
    } catch (err) {
      await rm(this.paths(id).dir, { recursive: true, force: true });
      throw err;
    }
    return record;
  }

  private async claimName(name: string, id: string): Promise<void> {
    const link = join(this.names, name);
    for (;;) {
      try {
        return await symlink(id, link);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readlink(link).catch(() => null);
      // A name whose container is gone (a crash during rm) is free again.
      if (owner && (await this.load(owner).catch(() => null))) {
        throw new RockerError(`the container name "${name}" is already in use by container ${owner.slice(0, 12)}: remove it or choose another name`);
      }
      await unlink(link).catch(() => {});
    }
  }

  async save(record: ContainerRecord): Promise<void> {
    const path = this.paths(record.id).record;
    await writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n', { mode: 0o600, durable: false });
  }

  async load(id: string): Promise<ContainerRecord> {
    const text = await readFile(this.paths(id).record, 'utf8');
    return JSON.parse(text) as ContainerRecord;
  }

  async exit(id: string): Promise<ExitRecord | undefined> {
    return readExitFile(this.paths(id).exit);
  }

  /** Every container id with a directory (including half-made ones: a record may be missing). */
  async ids(): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    return entries.filter((e) => ID.test(e));
  }

  /** Containers are found by name, full id or unique id prefix. */
  async find(ref: string): Promise<string> {
    if (NAME.test(ref)) {
      const owner = await readlink(join(this.names, ref)).catch(() => null);
      if (owner && ID.test(owner) && (await this.ids()).includes(owner)) return owner;
    }
    const matches = /^[0-9a-f]+$/.test(ref) ? (await this.ids()).filter((id) => id.startsWith(ref)) : [];
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new RockerError(`"${ref}" matches ${matches.length} containers: give more of the id`);
    throw new RockerError(`no such container: ${ref}`);
  }

  /** The last step of rm: the name (if still this container's), the sockets and the directory. */
  async remove(id: string): Promise<void> {
    const { attach, console } = this.paths(id);
    for (const s of [attach, console]) await rm(s, { force: true });
    const record = await this.load(id).catch(() => null);
    if (record) {
      const link = join(this.names, record.name);
      if ((await readlink(link).catch(() => null)) === id) await unlink(link).catch(() => {});
    }
    await rm(this.paths(id).dir, { recursive: true, force: true });
  }
}
