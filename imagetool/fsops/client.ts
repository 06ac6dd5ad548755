// Client for dist/rocker-fsops, the long-lived helper that performs mknod and
// xattr calls (Node has no API for either). Requests are answered in order, so
// a FIFO of pending promises matches replies to requests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';

const HELPER = fileURLToPath(new URL('../../rocker-fsops', import.meta.url));

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

interface Pending {
  resolve: (fields: string[]) => void;
  reject: (err: Error) => void;
  what: string;
}

const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex');

export class FsOps {
  #child: ChildProcessWithoutNullStreams | undefined;
  readonly #pending: Pending[] = [];
  #exitError: Error | undefined;

  /** Started by the first request: most bundles (snapshots already unpacked) make none. */
  #helper(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    const child = (this.#child = spawn(HELPER, [], { stdio: ['pipe', 'pipe', 'pipe'] }));
    // Replies are lines; split here rather than by node:readline (not worth loading for this).
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.#onReply(line);
    });
    const fail = (err: Error) => {
      this.#exitError = err;
      for (const p of this.#pending.splice(0)) p.reject(err);
    };
    child.on('error', (err) => fail(new Error(`${HELPER}: ${err.message}`)));
    child.on('exit', (code, signal) => fail(new Error(`${HELPER} exited (${signal ?? code})`)));
    return child;
  }

  #onReply(line: string): void {
    const p = this.#pending.shift();
    if (!p) return;
    const fields = line.split(' ');
    if (fields[0] === 'ok') return p.resolve(fields.slice(1));
    const errno = Number(fields[1]);
    const err: NodeJS.ErrnoException = new Error(`${p.what}: ${fields.slice(2).join(' ')}`);
    err.errno = errno;
    err.code = errnoNames.get(errno);
    p.reject(err);
  }

  #request(what: string, line: string): Promise<string[]> {
    if (this.#exitError) return Promise.reject(this.#exitError);
    return new Promise((resolve, reject) => {
      const child = this.#helper();
      this.#pending.push({ resolve, reject, what });
      child.stdin.write(line + '\n');
    });
  }

  /** mknod(2); `mode` includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
  async mknod(path: string, mode: number, major: number, minor: number): Promise<void> {
    await this.#request(`mknod ${path}`, `mknod ${hex(path)} ${mode} ${major} ${minor}`);
  }

  /** lsetxattr(2): never follows a symlink at `path`. */
  async setXattr(path: string, name: string, value: Buffer): Promise<void> {
    // An empty value is sent as a missing field.
    await this.#request(`setxattr ${path} ${name}`, `setx ${hex(path)} ${hex(name)} ${value.toString('hex')}`.trimEnd());
  }

  /** Every extended attribute of `path` (not following a symlink), by name. */
  async listXattrs(path: string): Promise<Map<string, Buffer>> {
    const fields = await this.#request(`listxattr ${path}`, `listx ${hex(path)}`);
    const out = new Map<string, Buffer>();
    for (const f of fields) {
      const [name, value] = f.split('=');
      out.set(Buffer.from(name, 'hex').toString(), Buffer.from(value, 'hex'));
    }
    return out;
  }

  /** Ends the helper once every request so far has been answered. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || this.#exitError) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    await exited;
  }
}
