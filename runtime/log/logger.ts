// runc-style logging: `--log FILE` receives text or JSON lines (containerd keeps
// the msg of the last {"level":"error"} line), and errors also go to stderr.
import { appendFileSync, openSync, closeSync } from 'node:fs';
import { writeErr } from '../cli/output.js';

export type LogFormat = 'text' | 'json';
export type Level = 'warning' | 'error';

export interface LoggerOptions {
  file?: string;
  format: LogFormat;
}

export class Logger {
  constructor(private readonly opts: LoggerOptions) {
    // Create the file up front (O_APPEND): the same file is shared by every call
    // on one container, so it is only ever appended to.
    if (opts.file) closeSync(openSync(opts.file, 'a', 0o644));
  }

  warn(msg: string): void {
    this.write('warning', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }

  private write(level: Level, msg: string): void {
    const time = new Date().toISOString();
    if (this.opts.file) {
      const line =
        this.opts.format === 'json'
          ? JSON.stringify({ level, msg, time }) + '\n'
          : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
      appendFileSync(this.opts.file, line);
    } else {
      // Without --log, warnings reach stderr too, as runc's do (e.g. a non-empty cgroup at create).
      writeErr(`time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`);
    }
  }
}
