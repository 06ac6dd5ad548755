// Runs OCI hooks in the runtime namespace: path, args (args[0] is argv[0]),
// env (when given, exactly that; otherwise the runtime's), the state JSON on
// stdin, and timeout in seconds after which the hook is killed.
import { spawn } from 'node:child_process';
import { HookError } from '../errors.js';
import type { HookName, OciHook } from '../spec/types.js';

function envObject(env: string[] | undefined): NodeJS.ProcessEnv {
  if (!env) return process.env;
  const out: NodeJS.ProcessEnv = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

function runOne(hook: OciHook, stateJson: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = hook.args?.length ? hook.args : [hook.path];
    const child = spawn(hook.path, args, { argv0, env: envObject(hook.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // a hook need not read its stdin
    child.stdin.end(stateJson);
    let timedOut = false;
    const timer =
      hook.timeout !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : undefined;
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new HookError(`error running hook: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = timedOut ? 'timeout' : signal ? `signal: ${signal}` : `exit status ${code}`;
      reject(new HookError(`error running hook: ${why}, stdout: ${stdout.trim()}, stderr: ${stderr.trim()}`));
    });
  });
}

/**
 * Runs the hooks of one kind in order. Without `warn` the first failure is thrown,
 * naming the kind and index; with it (poststart, poststop: the spec's "log a
 * warning, the remaining hooks and lifecycle continue") each failure is warned.
 */
export async function runHooks(kind: HookName, hooks: OciHook[] | undefined, state: object, warn?: (msg: string) => void): Promise<void> {
  if (!hooks?.length) return;
  const stateJson = JSON.stringify(state);
  for (let i = 0; i < hooks.length; i++) {
    try {
      await runOne(hooks[i], stateJson);
    } catch (e) {
      const err = new HookError(`${kind} hook #${i} (${hooks[i].path}): ${(e as Error).message}`, { kind, index: i });
      if (!warn) throw err;
      warn(err.message);
    }
  }
}
