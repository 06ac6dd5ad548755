// Spawns dist/nsexec and speaks protocol v1 (nsexec/PROTOCOL.md) with it over
// the inherited socket: newline-delimited JSON, every event schema-checked.
// Waiting is purely event driven: the next line, or EOF when every copy of
// nsexec's end is closed (the child's is close-on-exec).
import { fileURLToPath } from 'node:url';
import { spawnNsexec, type NsexecProcess } from './nsexec-process.js';
import { validateNsexecEvent, validateNsexecInit } from '../../schemas/validators.js';
import { NsexecError, UsageError } from '../errors.js';

export type NsexecEvent =
  | { type: 'pid'; pid: number }
  | { type: 'sync'; point: 'createRuntime' }
  | { type: 'created' }
  | { type: 'running' }
  | { type: 'exit'; status: number; signal?: number }
  | { type: 'eof' };

interface ErrorEvent {
  type: 'error';
  stage: string;
  syscall?: string;
  errno?: number;
  errnoName?: string;
  path?: string;
  message: string;
}

const NSEXEC = fileURLToPath(new URL('../../nsexec', import.meta.url));

/** Where nsexec's fds come from, and what starts it, when not the runtime's own. */
export interface NsexecLaunch {
  /** The fds that become nsexec's 0, 1 and 2 (the runtime's own by default). */
  stdio?: [number, number, number];
  /** A command that runs nsexec as its own child (its argv before nsexec's): the container monitor. */
  via?: string[];
}

export class NsexecChannel {
  /** Bytes of an incomplete line (a chunk may end inside a UTF-8 sequence). */
  private buffered: Buffer = Buffer.alloc(0);
  private readonly queue: (NsexecEvent | ErrorEvent)[] = [];
  private wake?: () => void;
  private ended = false;
  private readonly proc: NsexecProcess;
  private readonly validate: typeof validateNsexecEvent;

  private constructor(preserveFds: number, launch: NsexecLaunch) {
    const syncFd = 3 + preserveFds;
    // fds 0-2 and the preserved ones are the runtime's own, at the same numbers.
    const inherit = Array.from({ length: syncFd }, (_, fd) => (fd < 3 && launch.stdio ? launch.stdio[fd] : fd));
    const [file, ...args] = [...(launch.via ?? []), NSEXEC, String(syncFd)];
    this.proc = spawnNsexec(file, args, inherit, {
      data: (chunk) => this.onData(chunk),
      end: () => this.finish(),
    });
    // Resolved now: its module loads while nsexec starts, not once the first event is in.
    this.validate = validateNsexecEvent;
  }

  /**
   * Starts nsexec with fds 0-2 inherited, `preserveFds` fds from 3 passed through
   * unchanged, and the sync socket right after them. It waits for `init` (and exits
   * at EOF), so it can be started before the runtime knows what to send.
   */
  static spawn(preserveFds: number, launch: NsexecLaunch = {}): NsexecChannel {
    return new NsexecChannel(preserveFds, launch);
  }

  send(msg: object): void {
    this.proc.write(JSON.stringify(msg) + '\n');
  }

  /**
   * Sends the `init` message. With ROCKER_CHECK_PROTOCOL set (the test suites set it)
   * it is first checked against schemas/rocker/nsexec-init.schema.json: the runtime
   * builds it from validated input, so the check is for the tests, off the hot path.
   */
  sendInit(msg: object): void {
    if (process.env.ROCKER_CHECK_PROTOCOL) {
      const wire = JSON.parse(JSON.stringify(msg)) as unknown;
      if (!validateNsexecInit(wire)) {
        const err = validateNsexecInit.errors?.[0];
        throw new NsexecError('protocol', `the runtime built an invalid init message (${err?.instancePath || '/'} ${err?.message ?? ''})`);
      }
    }
    this.send(msg);
  }

  /**
   * `resize`: the size of the terminal a foreground nsexec relays. Only once it
   * reported `running`: before, the container process may still read the socket.
   */
  resizeTerminal(rows: number, cols: number): void {
    for (const [name, n] of [['rows', rows], ['cols', cols]] as const) {
      if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new UsageError(`terminal size: ${name} must be an integer from 0 to 65535, not ${n}`);
    }
    this.send({ type: 'resize', rows, cols });
  }

  /** The next event; `error` events are thrown as NsexecError, EOF is `{type:"eof"}`. */
  async next(): Promise<NsexecEvent> {
    while (this.queue.length === 0 && !this.ended) await new Promise<void>((res) => (this.wake = res));
    const ev = this.queue.shift() ?? { type: 'eof' };
    if (ev.type === 'error') {
      throw new NsexecError(ev.stage, ev.message, ev.syscall, ev.errno, ev.path);
    }
    return ev;
  }

  /** The next event, which must be one of `types`. */
  async expect<T extends NsexecEvent['type']>(...types: T[]): Promise<Extract<NsexecEvent, { type: T }>> {
    const ev = await this.next();
    if (!(types as string[]).includes(ev.type)) {
      throw new NsexecError(
        'protocol',
        ev.type === 'eof'
          ? `nsexec exited before ${types.join(' or ')}`
          : `nsexec sent ${ev.type} where ${types.join(' or ')} was expected`,
      );
    }
    return ev as Extract<NsexecEvent, { type: T }>;
  }

  /** Closes the runtime's end (nsexec's later writes are discarded). */
  close(): void {
    this.proc.close();
  }

  /** Failure path: kills the nsexec process the runtime spawned and closes the socket. */
  abort(): void {
    this.proc.kill();
    this.close();
  }

  private onData(chunk: Buffer): void {
    let buf = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let nl: number;
    // A newline byte never occurs inside a multi-byte UTF-8 sequence.
    while ((nl = buf.indexOf(10)) >= 0) {
      const line = buf.toString('utf8', 0, nl);
      buf = buf.subarray(nl + 1);
      if (line.trim()) this.queue.push(parseEvent(line, this.validate));
    }
    this.buffered = buf;
    this.wake?.();
  }

  private finish(): void {
    this.ended = true;
    this.wake?.();
  }
}

function parseEvent(line: string, validate: typeof validateNsexecEvent): NsexecEvent | ErrorEvent {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    return { type: 'error', stage: 'protocol', message: `nsexec sent invalid JSON: ${line.slice(0, 200)}` };
  }
  if (!validate(ev)) {
    const err = validate.errors?.[0];
    return { type: 'error', stage: 'protocol', message: `nsexec sent an invalid event (${err?.instancePath || '/'} ${err?.message ?? ''}): ${line.slice(0, 200)}` };
  }
  return ev as NsexecEvent | ErrorEvent;
}
