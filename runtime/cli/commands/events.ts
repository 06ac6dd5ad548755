// `events <id>`: container statistics as runc's JSON lines, every --interval,
// plus {"type":"oom"} lines when the OOM killer acts in the container; --stats
// prints one stats object and exits. The stream ends when the container stops.
//
// OOM kills are reported as the kernel notifies them (see cgroups/oom-watch.ts).
import { containerCgroup } from '../../cgroups/container.js';
import { watchOomKills } from '../../cgroups/oom-watch.js';
import { networkInterfaces } from '../../cgroups/stats.js';
import { countersToJson } from '../../cgroups/cgfs.js';
import { deriveStatus } from '../../state/status.js';
import { StateConflictError, UsageError } from '../../errors.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'events',
  usage: '<container-id>',
  description: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  flags: [
    { name: 'interval', type: 'string', description: 'set the stats collection interval', default: '5s' },
    { name: 'stats', type: 'boolean', description: 'display the container\'s stats then exit' },
  ],
  minArgs: 1,
  maxArgs: 1,
};

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** A Go-style duration ("5s", "100ms", "1m30s") in milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ms += Number(m[1]) * UNIT_MS[m[2]];
    end = re.lastIndex;
  }
  if (text === '' || end !== text.length) throw new UsageError(`invalid duration ${JSON.stringify(text)}`);
  if (ms <= 0) throw new UsageError('duration value must be greater than 0');
  return ms;
}

function emit(event: object): void {
  process.stdout.write(countersToJson(event) + '\n');
}

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0];
  const intervalMs = parseDuration(String(parsed.flags.interval));
  const c = await containerCgroup(ctx.global.root, id);
  if (c.status === 'stopped' || c.status === 'creating') throw new StateConflictError(`container with id ${id} is not running`);
  const stats = async (): Promise<void> =>
    emit({ type: 'stats', id, data: { ...(await c.cg.stats()), network_interfaces: networkInterfaces(c.st.pid) } });
  if (parsed.flags.stats) {
    await stats();
    return 0;
  }
  const stopOom = await watchOomKills(c.st.cgroupPaths, () => emit({ type: 'oom', id }));
  await new Promise<void>((resolve) => {
    const tick = async (): Promise<void> => {
      if (deriveStatus(c.cd, c.st) === 'stopped') {
        clearInterval(timer);
        resolve();
        return;
      }
      await stats();
    };
    const timer = setInterval(() => void tick(), intervalMs);
    void tick();
  });
  stopOom();
  return 0;
}
