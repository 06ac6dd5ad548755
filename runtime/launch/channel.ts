// Spawns dist/nsexec and speaks protocol v1 (nsexec/PROTOCOL.md) with it over
// the inherited socket: newline-delimited JSON, every event schema-checked.
// Waiting is purely event driven: the next line, or EOF when every copy of
// nsexec's end is closed (the child's is close-on-exec).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { validateNsexecEvent } from '../../schemas/validators.js';
import { NsexecError } from '../errors.js';

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

export class NsexecChannel {
  private buffered = '';
  private readonly queue: (NsexecEvent | ErrorEvent)[] = [];
  private wake?: () => void;
  private ended = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly sock: Socket,
  ) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('end', () => this.finish());
    sock.on('close', () => this.finish());
    // A reset from a dying nsexec is just the end of the conversation.
    sock.on('error', () => this.finish());
    this.exited = new Promise((res) => child.once('exit', () => res()));
  }

  /**
   * Starts nsexec with fds 0-2 inherited, `preserveFds` fds from 3 passed through
   * unchanged, and the sync socket right after them. It waits for `init` (and exits
   * at EOF), so it can be started before the runtime knows what to send.
   */
  static spawn(preserveFds: number): NsexecChannel {
    const syncFd = 3 + preserveFds;
    const stdio: ('inherit' | 'pipe' | number)[] = ['inherit', 'inherit', 'inherit'];
    for (let fd = 3; fd < syncFd; fd++) stdio.push(fd);
    stdio.push('pipe');
    const child = spawn(NSEXEC, [String(syncFd)], { stdio });
    child.on('error', () => undefined); // surfaces as EOF without `pid`
    return new NsexecChannel(child, child.stdio[syncFd] as Socket);
  }

  /** spawn, then send `init`. */
  static start(init: object, preserveFds: number): NsexecChannel {
    const ch = NsexecChannel.spawn(preserveFds);
    ch.send(init);
    return ch;
  }

  send(msg: object): void {
    if (!this.sock.destroyed) this.sock.write(JSON.stringify(msg) + '\n');
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
    this.sock.destroy();
  }

  /** Failure path: kills the nsexec process the runtime spawned and closes the socket. */
  abort(): void {
    this.child.kill('SIGKILL');
    this.close();
  }

  /** Resolves when the nsexec process the runtime spawned has exited. */
  parentExited(): Promise<void> {
    return this.exited;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line.trim()) this.queue.push(parseEvent(line));
    }
    this.wake?.();
  }

  private finish(): void {
    this.ended = true;
    this.wake?.();
  }
}

function parseEvent(line: string): NsexecEvent | ErrorEvent {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    return { type: 'error', stage: 'protocol', message: `nsexec sent invalid JSON: ${line.slice(0, 200)}` };
  }
  if (!validateNsexecEvent(ev)) {
    const err = validateNsexecEvent.errors?.[0];
    return { type: 'error', stage: 'protocol', message: `nsexec sent an invalid event (${err?.instancePath || '/'} ${err?.message ?? ''}): ${line.slice(0, 200)}` };
  }
  return ev as NsexecEvent | ErrorEvent;
}
