// The runtime through its runc-compatible command line only, so that the same
// front drives rocker-runtime, runc or crun (--runtime).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RockerError } from '../runtime/errors.js';
import type { ContainerRecord } from './state.js';

const ROCKER_RUNTIME = fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url));

/** --runtime: "rocker-runtime" (this tree's), or a command on PATH or a path (runc, crun). */
export const runtimeCommand = (name: string): string[] => [name === 'rocker-runtime' ? ROCKER_RUNTIME : name];

export interface RuntimeResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runtime(c: Pick<ContainerRecord, 'runtime' | 'runtimeRoot'>, args: string[]): Promise<RuntimeResult> {
  const [cmd, ...pre] = c.runtime;
  return new Promise((resolve) => {
    execFile(cmd, [...pre, '--root', c.runtimeRoot, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && typeof err.code !== 'number' ? err.message : '') });
    });
  });
}

/** Like runtime(), failing with the runtime's own words. */
export async function runtimeOk(c: Pick<ContainerRecord, 'runtime' | 'runtimeRoot'>, args: string[]): Promise<string> {
  const r = await runtime(c, args);
  if (r.code !== 0) throw new RockerError(`${c.runtime.at(-1)} ${args[0]}: ${lastError(r.stderr)}`);
  return r.stdout;
}

const NO_MESSAGE = 'failed (no error message)';

/** The message of the last error line a runc-compatible runtime wrote (text or JSON log format). */
export function lastError(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l.startsWith('{')) {
      try {
        const j = JSON.parse(l) as { level?: string; msg?: string };
        if (j.level === 'error' && j.msg) return j.msg;
      } catch {
        /* not a JSON line */
      }
      continue;
    }
    const m = /level=error msg="((?:[^"\\]|\\.)*)"/.exec(l);
    if (m) return m[1].replace(/\\"/g, '"');
    return l;
  }
  return NO_MESSAGE;
}

/** The runtime's error for a failed create, from its --log file, else from what it wrote on stderr. */
export async function createError(runtimeLog: string, stderr: () => Promise<string>): Promise<string> {
  const logged = lastError(await readFile(runtimeLog, 'utf8').catch(() => ''));
  return logged === NO_MESSAGE ? lastError(await stderr()) : logged;
}

/** `state`: the runtime's status, or undefined when it knows no such container. */
export async function runtimeStatus(c: ContainerRecord): Promise<string | undefined> {
  const r = await runtime(c, ['state', c.id]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { status: string }).status;
}
