// What the shim keeps in a container's bundle (containerd's directory, removed by
// containerd after the task): the monitor's exit record and the init's pid file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readExitFile, type ExitRecord } from '../front/monitor/exit-file.js';

export const EXIT_FILE = 'rocker-exit.json';
export const INIT_PID_FILE = 'rocker-init.pid';
/** Left by the shim's Delete: containerd's `delete` call that follows is answered without Node (shim/start/start.c). */
export const DELETED_MARKER = 'rocker-deleted';
/** The monitor's control fifo ("resize ROWS COLS" lines). */
export const CONTROL_FIFO = 'rocker-control';

/** The monitor's record of the init's exit, if it has written it. */
export const readExit = (bundle: string): ExitRecord | undefined => readExitFile(join(bundle, EXIT_FILE));

/** The init's pid, 0 when none was recorded. */
export function readInitPid(bundle: string): number {
  try {
    return Number(readFileSync(join(bundle, INIT_PID_FILE), 'utf8')) || 0;
  } catch {
    return 0;
  }
}
