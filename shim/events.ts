// Task events to containerd: each wrapped in an envelope and sent to the Forward
// method of containerd's ttrpc events service (TTRPC_ADDRESS), in order, as
// containerd 1.6's own shims publish them.
import { Client } from './ttrpc.js';
import { any, timestamp, type Msg } from './proto.js';
import type { Logger } from '../runtime/log/logger.js';

const SERVICE = 'containerd.services.events.ttrpc.v1.Events';

/** Event message (containerd.events.*) by topic. */
export const TOPICS = {
  TaskCreate: '/tasks/create',
  TaskStart: '/tasks/start',
  TaskExit: '/tasks/exit',
  TaskDelete: '/tasks/delete',
  TaskExecAdded: '/tasks/exec-added',
  TaskExecStarted: '/tasks/exec-started',
  TaskPaused: '/tasks/paused',
  TaskResumed: '/tasks/resumed',
  TaskOOM: '/tasks/oom',
} as const;

export class Publisher {
  private client?: Client;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly address: string, private readonly logger: Logger) {}

  publish(namespace: string, event: keyof typeof TOPICS, body: Msg): void {
    const envelope = { timestamp: timestamp(new Date()), namespace, topic: TOPICS[event], event: any(`containerd.events.${event}`, body) };
    this.pending++;
    this.queue = this.queue.then(() => this.send(envelope)).finally(() => this.pending--);
  }

  /** Nothing waits to be published. */
  get idle(): boolean {
    return this.pending === 0;
  }

  /** Resolves once what was published so far has gone out (or failed). */
  drained(): Promise<void> {
    return this.queue;
  }

  private async send(envelope: Msg): Promise<void> {
    // One retry on a fresh connection: containerd may have restarted meanwhile.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.client || this.client.closed) this.client = new Client(this.address);
      try {
        await this.client.call(SERVICE, 'Forward', { envelope });
        return;
      } catch (e) {
        this.client.close();
        this.client = undefined;
        if (attempt === 1) this.logger.warn(`publishing ${String(envelope.topic)}: ${(e as Error).message}`);
      }
    }
  }
}
