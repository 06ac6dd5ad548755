// Starting dist/rocker-monitor (front/monitor/monitor.c) for a container, and
// recognising it later (a pid alone may have been reused).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { RockerError } from '../runtime/errors.js';
import { createError } from './runtime.js';
import { SOCKET_DIR, type Containers, type ContainerRecord } from './state.js';

const MONITOR = fileURLToPath(new URL('../rocker-monitor', import.meta.url));
const ROCKER = fileURLToPath(new URL('../../bin/rocker', import.meta.url));

/** Log files are rotated at this size (one previous file is kept). */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * The monitor runs the runtime's `create`; resolves once the container is
 * created (its init waits for `start`) with the monitor's and the init's pids.
 */
export async function startMonitor(containers: Containers, c: ContainerRecord, o: { tty?: boolean; stdin?: boolean }): Promise<{ monitorPid: number; initPid: number }> {
  const p = containers.paths(c.id);
  await mkdir(SOCKET_DIR, { recursive: true, mode: 0o700 });
  const [cmd, ...pre] = c.runtime;
  const terminal = o.tty ? ['--console-socket', p.console] : [];
  const create = [cmd, ...pre, '--root', c.runtimeRoot, '--log', p.runtimeLog, '--log-format', 'json', 'create', '--bundle', p.bundle, '--pid-file', p.pid, ...terminal, c.id];
  // The monitor, not this command, sees the exit: it runs the rm.
  const onExit = c.autoRemove ? [ROCKER, '--root', dirname(containers.dir), 'rm', '-f', c.id].flatMap((w) => ['--on-exit', w]) : [];
  const args = [...onExit, '--log', p.log, '--log-max', String(LOG_MAX_BYTES), '--pid-file', p.pid, '--exit-file', p.exit, '--sync-fd', '3', '--attach-socket', p.attach, ...terminal, ...(o.stdin ? ['--stdin'] : []), '--', ...create];
  return new Promise((resolve, reject) => {
    // fd 3 is the sync pipe; the monitor's own stdio goes nowhere (it detaches).
    const child = spawn(MONITOR, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], detached: true });
    let text = '';
    child.on('error', reject);
    const sync = child.stdio[3] as Readable;
    sync.setEncoding('utf8');
    sync.on('data', (d: string) => (text += d));
    sync.on('end', async () => {
      const [word, a, b] = text.trim().split(' ');
      if (word === 'created') return resolve({ initPid: Number(a), monitorPid: Number(b) });
      const why = word === 'failed' ? await createError(p.runtimeLog) : `the monitor ended without a report (${text.trim() || 'nothing'})`;
      reject(new RockerError(`creating the container: ${why}`));
    });
  });
}

/** True when `pid` is a live rocker-monitor (not a process that reused its pid). */
export function monitorAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === MONITOR;
  } catch {
    return false;
  }
}
