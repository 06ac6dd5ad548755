// rocker attach [--no-stdin] [--sig-proxy=false] [--detach-keys K] CONTAINER: our
// stdio on a running container's, through its monitor, until it exits (its exit
// code is ours) or we detach (ctrl-p ctrl-q with a terminal). run and start -a
// attach the same way, before the container starts.
import type { Argv } from 'yargs';
import { RockerError } from '../../../runtime/errors.js';
import { connectAttach, DEFAULT_DETACH_KEYS, followSize, parseDetachKeys, relay } from '../../attach.js';
import { hasTerminal, statusOf, waitExit } from '../../lifecycle.js';
import { runtimeOk } from '../../runtime.js';
import type { Containers, ContainerRecord } from '../../state.js';
import type { FrontArgs, FrontCommand } from '../context.js';
import { follow } from './logs.js';

/** --detach-keys: attach's, run's and start's. */
export const detachKeysFlag = <T>(y: Argv<T>) => y.option('detach-keys', { type: 'string', default: DEFAULT_DETACH_KEYS, describe: 'the key sequence that detaches a terminal (ctrl-<x> or a character, comma-separated)' });

export interface Attached {
  /** Relays until the container exits (its exit code) or we detach. */
  finish(): Promise<number | 'detached'>;
  /** Ends the attachment (a start that failed). */
  close(): void;
}

export interface AttachOptions {
  tty: boolean;
  stdin: boolean;
  detachKeys: number[];
  /** Output from the log from this time on (all of it when undefined); not with a terminal, whose output comes from the socket. */
  since?: string;
  /** Our SIGINT, SIGTERM, SIGHUP go to the container (default). */
  sigProxy?: boolean;
}

/**
 * Attaches to `c`'s monitor. Made before the runtime's `start`, it misses
 * nothing the container says or reads.
 */
export async function attachTo(containers: Containers, c: ContainerRecord, o: AttachOptions): Promise<Attached> {
  const p = containers.paths(c.id);
  const socket = o.tty || o.stdin ? await connectAttach(p.attach) : undefined;
  // The relay starts at once: a container that exits right away closes the socket during `start`.
  const relayed = socket ? relay(socket, o) : undefined;
  // Sized before `start`, so the container's first look at its terminal sees ours.
  const stopSize = o.tty ? followSize(p.control) : undefined;
  void relayed?.finally(stopSize);
  return {
    close: () => socket?.destroy(),
    async finish() {
      if (o.sigProxy !== false) {
        const forward = (sig: NodeJS.Signals) => void runtimeOk(c, ['kill', c.id, sig]).catch(() => {});
        for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
      }
      if (!o.tty) await follow(containers, c, { follow: true, since: o.since });
      if ((await relayed) === 'detached') return 'detached';
      socket?.destroy();
      const exit = await waitExit(containers, c);
      if (!exit) throw Object.assign(new RockerError(`the monitor of ${c.name} ended without recording its exit`), { exitCode: 125 });
      return exit.exitCode;
    },
  };
}

/** What a container's attachment is: its terminal, and our stdin when asked and it has one open. */
export async function attachOptions(containers: Containers, c: ContainerRecord, a: { stdin: boolean; 'detach-keys': unknown; since?: string; sigProxy?: boolean }): Promise<AttachOptions> {
  return { tty: await hasTerminal(containers, c), stdin: a.stdin && Boolean(c.stdin), detachKeys: parseDetachKeys(String(a['detach-keys'])), since: a.since, sigProxy: a.sigProxy };
}

const command: FrontCommand = {
  command: 'attach <container>',
  describe: "attach our stdin, stdout and stderr to a running container's",
  builder: (y) =>
    detachKeysFlag(y)
      .option('stdin', { type: 'boolean', default: true, describe: 'attach stdin (--no-stdin: do not)' })
      .option('sig-proxy', { type: 'boolean', default: true, describe: 'send our SIGINT, SIGTERM and SIGHUP to the container' }) as unknown as Argv<FrontArgs>,
  async run(ctx, a) {
    const c = await ctx.container(String(a.container));
    const o = await attachOptions(ctx.containers, c, { stdin: Boolean(a.stdin), 'detach-keys': a['detach-keys'], since: new Date().toISOString(), sigProxy: Boolean(a['sig-proxy']) });
    const s = await statusOf(ctx.containers, c, c.id);
    if (s.state === 'paused') throw new RockerError(`cannot attach to paused container ${c.name}: unpause it first`);
    if (s.state !== 'running') throw new RockerError(`cannot attach to container ${c.name}: it is ${s.state === 'dead' ? 'dead' : 'not running'} (start it first)`);
    const r = await (await attachTo(ctx.containers, c, o)).finish();
    return r === 'detached' ? 0 : r;
  },
};
export default command;
