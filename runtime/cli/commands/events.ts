// `events <id>`: container statistics as runc's JSON lines, every --interval,
// plus {"type":"oom"} lines when the OOM killer acts in the container; --stats
// prints one stats object and exits. The stream ends when the container stops.
//
// OOM detection: the kernel's notification for v1 is an eventfd registered via
// cgroup.event_control, and Node cannot create eventfds. So on v1 the oom_kill
// counter in memory.oom_control (one small read) is checked every 250 ms; on
// cgroup2, memory.events raises inotify events, so it is watched, not polled.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { containerCgroup, requireRunning, type ContainerCgroup } from '../../cgroups/container.js';
import { networkInterfaces, oomKillCount } from '../../cgroups/stats.js';
import { countersToJson } from '../../cgroups/cgfs.js';
import { deriveStatus } from '../../state/status.js';
import { UsageError } from '../../errors.js';
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

const OOM_POLL_MS = 250;
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

/** Calls `onOom` once per OOM kill; returns a stop function. */
function watchOom(c: ContainerCgroup, onOom: () => void): () => void {
  let seen = oomKillCount(c.st.cgroupPaths);
  const check = (): void => {
    const now = oomKillCount(c.st.cgroupPaths);
    for (; seen < now; seen++) onOom();
  };
  const v2Events = c.st.cgroupPaths.memory ? undefined : c.st.cgroupPaths[''];
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (v2Events) watcher = watch(join(v2Events, 'memory.events'), check);
  else timer = setInterval(check, OOM_POLL_MS);
  return () => {
    check();
    watcher?.close();
    if (timer) clearInterval(timer);
  };
}

export async function run(ctx: CommandContext, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0];
  const intervalMs = parseDuration(String(parsed.flags.interval));
  const c = await containerCgroup(ctx.global.root, id);
  requireRunning(c);
  const stats = async (): Promise<void> =>
    emit({ type: 'stats', id, data: { ...(await c.cg.stats()), network_interfaces: networkInterfaces(c.st.pid) } });
  if (parsed.flags.stats) {
    await stats();
    return 0;
  }
  const stopOom = watchOom(c, () => emit({ type: 'oom', id }));
  await new Promise<void>((resolve) => {
    const tick = async (): Promise<void> => {
      if ((await deriveStatus(c.cd, c.st)) === 'stopped') {
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
