// Running the built rocker-image CLI from the bundle tests.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/rocker-image', import.meta.url));

/**
 * Runs `rocker-image --root <root> ...args` (a last argument `{ env }` adds to
 * its environment); resolves { code, stdout, stderr } whatever the exit status.
 */
export async function rockerImage(root, ...args) {
  const { env = {} } = typeof args.at(-1) === 'object' ? args.pop() : {};
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [BIN, '--root', root, ...args], { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Like rockerImage, but fails the test on a non-zero exit. */
export async function rockerImageOk(root, ...args) {
  const r = await rockerImage(root, ...args);
  if (r.code !== 0) throw new Error(`rocker-image ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** Mount points at or below `dir`, deepest first (for cleanup after a failed test). */
export function mountsUnder(dir) {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}
