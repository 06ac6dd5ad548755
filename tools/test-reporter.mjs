// node --test reporter for `make check` and `make test`: node's own output (spec on a
// terminal, TAP otherwise, as node picks by default, so its closing "# pass N" /
// "# fail N" lines stay), then what a plain run does not say:
// - the skips summed up by reason ("skipped on this host: 3 — no BFQ scheduler
//   (blkio weight)"); a test skips only for a host feature it names;
// - for a file killed by --test-timeout (Node 20 applies it per file), the test that
//   was running, which node's own output leaves out;
// - the slowest files, to size that timeout by.
import { relative } from 'node:path';
import { Readable } from 'node:stream';
import { spec as Spec, tap } from 'node:test/reporters';

const NOT_CHOSEN = ['test name does not match pattern', "'only' option not set"];

export default async function* reporter(source) {
  const skips = new Map();
  /** file -> the tests it is in now, outermost first ({ name, done }). */
  const running = new Map();
  const hung = [];
  /** file -> [start, last event] times. */
  const spans = new Map();
  async function* watch() {
    for await (const ev of source) {
      const { file, name, nesting } = ev.data ?? {};
      // A file starts when the runner dequeues it (it enqueues them all up front).
      if (file && (spans.has(file) || (ev.type === 'test:dequeue' && name === file))) {
        const now = Date.now();
        spans.set(file, [spans.get(file)?.[0] ?? now, now]);
      }
      // With one process per file, the file itself is a test named by its path.
      const isFile = name === file;
      if (ev.type === 'test:dequeue' && file && !isFile) {
        const stack = (running.get(file) ?? []).slice(0, nesting);
        stack[nesting] = { name, done: false };
        running.set(file, stack);
      }
      if ((ev.type === 'test:pass' || ev.type === 'test:fail') && file && !isFile) {
        const at = running.get(file)?.[nesting];
        if (at?.name === name) at.done = true;
      }
      // --test-name-pattern and --test-only skip the rest: a choice of the caller's, not of the host.
      if (ev.type === 'test:pass' && ev.data.skip !== undefined && !NOT_CHOSEN.includes(ev.data.skip)) {
        const reason = typeof ev.data.skip === 'string' && ev.data.skip ? ev.data.skip : '(no reason given)';
        skips.set(reason, (skips.get(reason) ?? 0) + 1);
      }
      if (ev.type === 'test:fail' && isFile && ev.data.details?.error?.failureType === 'testTimeoutFailure') {
        hung.push(`${file}: ${ev.data.details.error.message}, ${where(running.get(file))}`);
      }
      yield ev;
    }
  }
  if (process.stdout.isTTY) yield* Readable.from(watch()).pipe(new Spec());
  else yield* tap(watch());
  const total = [...skips.values()].reduce((a, b) => a + b, 0);
  const lines = [];
  if (total) {
    lines.push(`skipped on this host: ${total}`);
    for (const [reason, n] of [...skips].sort((a, b) => b[1] - a[1])) lines.push(`  ${n} — ${reason}`);
  } else {
    lines.push('skipped on this host: 0');
  }
  for (const h of hung) lines.push(`timed out: ${h}`);
  const slowest = [...spans].map(([f, [a, b]]) => [f, b - a]).sort((x, y) => y[1] - x[1]).slice(0, 5);
  if (slowest.length > 1) lines.push(`slowest files: ${slowest.map(([f, ms]) => `${relative(process.cwd(), f)} ${(ms / 1000).toFixed(0)} s`).join(', ')}`);
  yield `${lines.map((l) => `# ${l}`).join('\n')}\n`;
}

/** Where a killed file was: in the innermost test not done, else after the last one done. */
function where(stack = []) {
  const names = stack.filter(Boolean);
  if (!names.length) return 'before its first test';
  const path = names.map((t) => t.name).join(' > ');
  return names.at(-1).done ? `after "${path}" (its next test did not report starting)` : `in "${path}"`;
}
