// Reading the CRI-format log the monitor writes (`<time> stdout|stderr F|P <text>`),
// its one rotated predecessor first, and following it while the container runs.
import { open, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

function parse(line: string): LogRecord | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  return m ? { time: m[1], stream: m[2] as LogRecord['stream'], partial: m[3] === 'P', text: m[4] } : undefined;
}

/** Splits complete lines off `buf`; returns the records and the unfinished rest. */
function split(buf: string): { records: LogRecord[]; rest: string } {
  const end = buf.lastIndexOf('\n');
  const records = buf.slice(0, end + 1).split('\n').map(parse).filter((r): r is LogRecord => !!r);
  return { records, rest: buf.slice(end + 1) };
}

export interface Output {
  write(r: LogRecord): void;
}

/** The last `tail` lines (a P record counts with the F that ends it). */
function lastLines(records: LogRecord[], tail: number | undefined): LogRecord[] {
  if (tail === undefined || tail < 0) return records;
  let lines = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    if (!records[i].partial && ++lines > tail) return records.slice(i + 1);
  }
  return records;
}

/** A CRI or ISO time as a string that sorts in time order (9 fraction digits). */
const timeKey = (t: string): string => {
  const [whole, frac = ''] = t.replace(/Z$/, '').split('.');
  return `${whole}.${frac.padEnd(9, '0')}`;
};

/**
 * Writes the log to `out` (only records from `since` on, when given); with
 * `follow`, goes on until `done()` says the container has finished and
 * everything written before that has been read.
 */
export async function readLog(path: string, out: Output, o: { tail?: number; since?: string; follow?: boolean; done?: () => Promise<boolean> }): Promise<void> {
  const from = o.since === undefined ? undefined : timeKey(o.since);
  const write = from === undefined ? (r: LogRecord) => out.write(r) : (r: LogRecord) => void (timeKey(r.time) >= from && out.write(r));
  const old = await readFile(`${path}.1`, 'utf8').catch(() => '');
  let fh: FileHandle | undefined = await open(path, 'r').catch(() => undefined);
  let offset = 0;
  let rest = '';
  const readMore = async (): Promise<LogRecord[]> => {
    if (!fh) return [];
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (!bytesRead) break;
      offset += bytesRead;
      chunks.push(buf.subarray(0, bytesRead));
    }
    const s = split(rest + Buffer.concat(chunks).toString('utf8'));
    rest = s.rest;
    return s.records;
  };
  const first = [...split(old).records, ...(await readMore())];
  for (const r of lastLines(first, o.tail)) write(r);
  if (!o.follow) return void (await fh?.close());
  try {
    for (;;) {
      // Read `done` before the file: what the container wrote before it ended is then all in the file.
      const finished = await o.done!();
      for (const r of await readMore()) write(r);
      const current = await stat(path).catch(() => undefined);
      const rotated = current && (!fh || (await fh.stat()).ino !== current.ino);
      if (rotated) {
        // The monitor renamed the file to .1: its end has been read above; the new file starts over.
        await fh?.close();
        fh = await open(path, 'r').catch(() => undefined);
        offset = 0;
        rest = '';
        continue;
      }
      if (finished) return;
      await sleep(100);
    }
  } finally {
    await fh?.close();
  }
}
