// rocker logs [-f] [--tail N] [--timestamps] CONTAINER
import { monitorOf } from '../../monitor.js';
import { readLog, type LogRecord } from '../../logs.js';
import type { Containers, ContainerRecord } from '../../state.js';
import type { FrontCommand } from '../context.js';

/** The container's log to our stdout/stderr (from `since` on); with `follow`, until the monitor has recorded the exit. */
export async function follow(containers: Containers, c: ContainerRecord, o: { follow?: boolean; tail?: number; since?: string; timestamps?: boolean }): Promise<void> {
  const write = (r: LogRecord) => {
    const stream = r.stream === 'stdout' ? process.stdout : process.stderr;
    stream.write(`${o.timestamps ? `${r.time} ` : ''}${r.text}${r.partial ? '' : '\n'}`);
  };
  const done = async () => (await containers.exit(c.id)) !== undefined || !monitorOf(containers.paths(c.id), c.monitorPid);
  await readLog(containers.paths(c.id).log, { write }, { follow: o.follow, tail: o.tail, since: o.since, done });
}

const command: FrontCommand = {
  command: 'logs <container>',
  describe: "show a container's output",
  builder: (y) =>
    y
      .option('follow', { alias: 'f', type: 'boolean', describe: 'follow the output until the container exits' })
      .option('tail', { type: 'string', describe: 'number of lines to show from the end ("all" for all)' })
      .option('timestamps', { alias: 't', type: 'boolean', describe: 'show the time of each line' }),
  async run(ctx, a) {
    const c = await ctx.container(String(a.container));
    const tail = a.tail === undefined || a.tail === 'all' ? undefined : Number(a.tail);
    await follow(ctx.containers, c, { follow: Boolean(a.follow), tail, timestamps: Boolean(a.timestamps) });
  },
};
export default command;
