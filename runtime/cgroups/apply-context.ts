// What resource writers share: where the resources came from (for errors that
// name the field) and how to warn about what is accepted but ignored.
import { join } from 'node:path';
import { SpecError } from '../errors.js';
import { fileExists, readNumber, writeCgroupFile } from './cgfs.js';
import type { Warn } from './types.js';

export class ApplyContext {
  constructor(
    /** "config.json", a --resources file, or "update flags". */
    readonly source: string,
    /** JSON path of the resources object in `source` ("linux.resources" or ""). */
    readonly prefix: string,
    readonly warn: Warn,
  ) {}

  field(path: string): string {
    return this.prefix ? `${this.prefix}.${path}` : path;
  }

  refuse(path: string, detail: string): SpecError {
    return new SpecError(this.source, this.field(path), detail);
  }
}

/** One cgroup directory and its files. */
export class CgroupDir {
  constructor(readonly dir: string) {}
  file(name: string): string {
    return join(this.dir, name);
  }
  has(name: string): boolean {
    return fileExists(this.file(name));
  }
  write(name: string, value: string | number): void {
    writeCgroupFile(this.file(name), value);
  }
  number(name: string): number {
    return Number(readNumber(this.file(name), Number.MAX_SAFE_INTEGER));
  }
}

/** The blockIO throttle fields with their v1 file and their cgroup2 io.max key. */
export const THROTTLES = [
  { field: 'throttleReadBpsDevice', v1: 'blkio.throttle.read_bps_device', v2: 'rbps' },
  { field: 'throttleWriteBpsDevice', v1: 'blkio.throttle.write_bps_device', v2: 'wbps' },
  { field: 'throttleReadIOPSDevice', v1: 'blkio.throttle.read_iops_device', v2: 'riops' },
  { field: 'throttleWriteIOPSDevice', v1: 'blkio.throttle.write_iops_device', v2: 'wiops' },
] as const;

export function deviceKey(d: { major: number; minor: number }): string {
  return `${d.major}:${d.minor}`;
}
