// Test helper: runs bin/rocker-image with a temp --root and a private
// DOCKER_CONFIG (never the real ~/.docker or /var/lib/rocker).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/rocker-image', import.meta.url));

/** Resolves { code, stdout, stderr } (never rejects on a non-zero exit). */
export function rockerImage(args, { root, dockerConfig, env = {}, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...(root ? ['--root', root] : []), ...args],
      { env: { ...process.env, DOCKER_CONFIG: dockerConfig ?? '/nonexistent-docker-config', ROCKER_RETRY_BASE_MS: '20', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin.end(input);
  });
}
