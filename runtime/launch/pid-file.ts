// --pid-file: the decimal pid with no trailing newline (containerd parses it
// with Atoi), written under a temporary name and renamed so a reader never
// sees it half written.
import { writeFileSync, renameSync } from 'node:fs';
import { resolve, dirname, basename, join } from 'node:path';
import { SystemError } from '../errors.js';

export function writePidFile(file: string, pid: number): void {
  const abs = resolve(file);
  const tmp = join(dirname(abs), `.${basename(abs)}.tmp`);
  try {
    writeFileSync(tmp, String(pid), { mode: 0o644 });
    renameSync(tmp, abs);
  } catch (e) {
    throw new SystemError('write pid file', abs, e as Error);
  }
}
