// Running client commands (ctr, podman, script) from the suites: every call has a
// deadline so a runtime that hangs a client fails its test instead of the whole CI job.
import { spawn } from 'node:child_process';

// Scaled by TEST_SLOWDOWN where everything is slower (a uml-v2 guest: 10).
const DEFAULT_TIMEOUT_MS = 60_000 * (Number(process.env.TEST_SLOWDOWN) || 1);

/**
 * Runs a command to completion and collects its output.
 * @param {{env?: NodeJS.ProcessEnv, timeout?: number, input?: string}} [opts] input: the
 *   command's stdin (a pipe that then closes); without it, stdin is /dev/null.
 * @returns {Promise<{code: number|null, signal: string|null, stdout: string, stderr: string, timedOut: boolean}>}
 */
export function run(cmd, args, { env, timeout = DEFAULT_TIMEOUT_MS, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    // A command may exit without reading its input: EPIPE is its business, not a test error.
    child.stdin?.on('error', () => {}).end(input);
  });
}

/** Like run(), but a non-zero exit is an error that carries the command's output. */
export async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/**
 * Runs a client that insists on a terminal (ctr run -t, podman run -it) under
 * script(1), which gives it a pty; script -e returns the client's exit code.
 */
export function runWithPty(argv, opts) {
  const line = argv.map(shellQuote).join(' ');
  return run('script', ['-qec', line, '/dev/null'], opts);
}

function shellQuote(s) {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A short human summary of a result for assertion messages. */
export function describeResult(r) {
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}; stdout: ${JSON.stringify(r.stdout)}; stderr: ${JSON.stringify(r.stderr)}`;
}

/**
 * Starts a command that keeps running (a foreground `ctr run`, an attach) and lets the
 * test wait for a line of its output before acting on it.
 */
export function startBackground(cmd, args, { env, timeout = DEFAULT_TIMEOUT_MS } = {}) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let closed = null;
  const waiters = [];
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeout);
  const failWaiters = () => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${cmd} exited before printing ${w.pattern}: ${describeResult(closed)}`));
  };
  const check = () => {
    for (const w of [...waiters]) {
      if (w.pattern.test(stdout)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      closed = { code, signal, stdout, stderr, timedOut };
      check();
      failWaiters();
      resolve(closed);
    });
  });
  return {
    child,
    done,
    /** Resolves once stdout matches pattern; rejects if the command exits first. */
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
        if (closed) failWaiters();
      });
    },
  };
}
