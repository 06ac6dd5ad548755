// OOM kills in a container's cgroup, reported as they happen, one call per kill.
// The kill count is the oom_kill counter (v1 memory.oom_control, v2
// memory.events); what wakes the watcher is the kernel's own notification:
//  - v1: an eventfd registered through cgroup.event_control. Node cannot create
//    eventfds, so the C helper dist/rocker-oomwatch (runtime/cgroups/native/oomwatch.c)
//    holds it and prints a line per notification;
//  - cgroup2: memory.events raises inotify events, so it is watched.
// The v1 notification comes as the OOM killer starts, before it counts its
// kill, so a notification without a new kill is re-checked a few times shortly after.
import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RockerError } from '../errors.js';
import { readOptional } from './cgfs.js';
import { oomKillCount } from './stats.js';

const HELPER = fileURLToPath(new URL('../../rocker-oomwatch', import.meta.url));
const RECHECKS = 10;
const RECHECK_MS = 20;

/** Starts watching; resolves, once the watch is in place, to a stop function (which reports kills not yet seen). */
export async function watchOomKills(paths: Record<string, string>, onKill: () => void): Promise<() => void> {
  let seen = 0;
  const check = (): boolean => {
    const now = oomKillCount(paths);
    const any = now > seen;
    for (; seen < now; seen++) onKill();
    return any;
  };
  const checkSoon = (left: number): void => {
    if (!check() && left > 0) setTimeout(() => checkSoon(left - 1), RECHECK_MS).unref();
  };
  if (paths.memory) {
    const helper = spawn(HELPER, [paths.memory], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    helper.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const lines = createInterface({ input: helper.stdout });
    await new Promise<void>((resolve, reject) => {
      helper.once('error', (e) => reject(new RockerError(`run ${HELPER}: ${e.message}`)));
      helper.once('exit', () => reject(new RockerError(`OOM notification for ${paths.memory}: ${stderr.trim() || 'helper exited'}`)));
      lines.once('line', () => resolve());
    });
    seen = oomKillCount(paths);
    lines.on('line', () => checkSoon(RECHECKS));
    return () => {
      check();
      helper.kill();
    };
  }
  const v2 = paths[''];
  if (v2 && readOptional(join(v2, 'memory.events')) !== undefined) {
    seen = oomKillCount(paths);
    const watcher = watch(join(v2, 'memory.events'), () => check());
    return () => {
      check();
      watcher.close();
    };
  }
  return () => {};
}
