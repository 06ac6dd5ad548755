// Starting dist/rocker-monitor (front/monitor/monitor.c) for a container, and
// recognising it later (a pid alone may have been reused).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { RockerError } from '../runtime/errors.js';
import { readLog } from './logs.js';
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
  // With a terminal, its control fifo takes the attached user's terminal size.
  const monitorTerminal = o.tty ? [...terminal, '--control-fifo', p.control] : [];
  const args = [...onExit, '--log', p.log, '--log-max', String(LOG_MAX_BYTES), '--pid-file', p.pid, '--exit-file', p.exit, '--sync-fd', '3', '--attach-socket', p.attach, ...monitorTerminal, ...(o.stdin ? ['--stdin'] : []), '--', ...create];
  // The runtime's stderr goes to the container's log: its records from now on are this create's.
  const since = new Date().toISOString();
  const stderr = async () => {
    const lines: string[] = [];
    await readLog(p.log, { write: (r) => void (r.stream === 'stderr' && lines.push(r.text)) }, { since });
    return lines.join('\n');
  };
  return new Promise((resolve, reject) => {
    // fd 3 is the sync pipe; the monitor's own stdio goes nowhere (it detaches).
    const child = spawn(MONITOR, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'], detached: true });
    let text = '';
    child.on('error', reject);
    const sync = child.stdio[3] as Readable;
    sync.setEncoding('utf8');
    sync.on('data', (d: string) => (text += d));
    sync.on('end', async () => {
      const [word, a, b, ...said] = text.trim().split(' ');
      if (word === 'created') return resolve({ initPid: Number(a), monitorPid: Number(b) });
      // "failed <status> <pid>": the runtime's reason is in its log; the monitor's own follows the pid.
      const why = word !== 'failed' ? `the monitor ended without a report (${text.trim() || 'nothing'})` : said.length ? said.join(' ') : `${await createError(p.runtimeLog, stderr)} (status ${a})`;
      reject(new RockerError(`creating the container: ${why}`));
    });
  });
}

/** The argument vector of process `pid` (empty when it is gone or a zombie). */
function argvOf(pid: number | string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

const hasArg = (argv: string[], flag: string, value: string) => argv.some((a, i) => a === flag && argv[i + 1] === value);
const isMonitorOf = (argv: string[], exitFile: string) => argv[0] === MONITOR && hasArg(argv, '--exit-file', exitFile);

/**
 * What is at work for a container, found by arguments that name its files: its
 * monitors (their --exit-file), and runtime `create`s a monitor ran that have
 * not finished (their --pid-file), which outlive a killed monitor. This finds
 * a monitor whose pid was never saved (a crash right after it started).
 */
export function workersOf(p: { exit: string; pid: string }): { monitors: number[]; creates: number[] } {
  const found = { monitors: [] as number[], creates: [] as number[] };
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const argv = argvOf(pid);
    if (isMonitorOf(argv, p.exit)) found.monitors.push(Number(pid));
    else if (argv[0] !== MONITOR && hasArg(argv, '--pid-file', p.pid)) found.creates.push(Number(pid));
  }
  return found;
}

/**
 * The container's live monitor: the recorded pid while it still is that
 * monitor (a pid may have been reused), else one found by its arguments.
 */
export function monitorOf(p: { exit: string; pid: string }, recorded: number | undefined): number | undefined {
  if (recorded && isMonitorOf(argvOf(recorded), p.exit)) return recorded;
  return workersOf(p).monitors[0];
}
