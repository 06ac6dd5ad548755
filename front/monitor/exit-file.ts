// The monitor's exit file (monitor.c --exit-file, written whole by rename): the
// one reader for the front and the containerd shim.
import { readFileSync } from 'node:fs';

export interface ExitRecord {
  exitCode: number;
  exitedAt: string;
}

/** The recorded exit of the container's init; undefined until the monitor has written it. */
export function readExitFile(path: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}
