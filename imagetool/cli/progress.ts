// Pull progress: one redrawn bar per layer on a terminal, plain lines when
// output is piped, nothing with --quiet (retries still go to stderr).
import type { Descriptor } from '../store/index.js';
import type { PullProgress } from '../registry/pull.js';

const short = (d: Descriptor): string => d.digest.slice(7, 19);

/** `what` is a blob digest (shown short, as in the progress lines) or a registry host. */
function retryLine(what: string, reason: string): void {
  process.stderr.write(`${what.startsWith('sha256:') ? what.slice(7, 19) : what}: ${reason}\n`);
}

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}

/** Plain lines: start, done, retries. */
class LineProgress implements PullProgress {
  constructor(private readonly out: NodeJS.WritableStream) {}
  layerStart(d: Descriptor): void {
    this.out.write(`${short(d)}: downloading (${humanSize(d.size)})\n`);
  }
  layerDone(d: Descriptor, how: 'downloaded' | 'exists'): void {
    this.out.write(`${short(d)}: ${how === 'exists' ? 'already exists' : 'pull complete'}\n`);
  }
  retry = retryLine;
}

/** A block of bars redrawn in place (at most every 100ms, and on every state change). */
class BarProgress implements PullProgress {
  private readonly rows = new Map<string, { d: Descriptor; written: number; state: string }>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  private row(d: Descriptor) {
    let r = this.rows.get(d.digest);
    if (!r) {
      r = { d, written: 0, state: 'waiting' };
      this.rows.set(d.digest, r);
    }
    return r;
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 50));
    let text = this.drawn ? `\x1b[${this.drawn}A` : '';
    for (const r of this.rows.values()) {
      const frac = r.d.size ? Math.min(1, r.written / r.d.size) : 1;
      const bar = r.state === 'downloading' ? `[${'='.repeat(Math.floor(frac * width)).padEnd(width)}] ${humanSize(r.written)}/${humanSize(r.d.size)}` : r.state;
      text += `\x1b[2K${short(r.d)}: ${bar}\n`;
    }
    this.drawn = this.rows.size;
    this.out.write(text);
  }

  layerStart(d: Descriptor): void {
    this.row(d).state = 'downloading';
    this.draw(true);
  }
  layerBytes(d: Descriptor, written: number): void {
    this.row(d).written = written;
    this.draw(false);
  }
  layerDone(d: Descriptor, how: 'downloaded' | 'exists'): void {
    this.row(d).state = how === 'exists' ? 'already exists' : 'pull complete';
    this.draw(true);
  }
  retry(what: string, reason: string): void {
    const r = this.rows.get(what);
    if (r) {
      r.state = `retrying: ${reason}`;
      this.draw(true);
      r.state = 'downloading';
    } else {
      retryLine(what, reason);
    }
  }
}

class QuietProgress implements PullProgress {
  retry = retryLine;
}

/** `out`: stdout for `pull`; stderr when stdout carries a command's result (bundle prints its path). */
export function makeProgress(quiet: boolean, out: NodeJS.WriteStream = process.stdout): PullProgress {
  if (quiet) return new QuietProgress();
  return out.isTTY ? new BarProgress(out) : new LineProgress(out);
}
