// Waiting for a foreground process (run without -d, exec without -d): the
// nsexec parent reports `exit`; meanwhile the signals a terminal or a
// supervisor sends to the runtime are forwarded to the process.
import type { NsexecChannel } from './channel.js';
import { NsexecError } from '../errors.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

/**
 * Resolves with the exit status as a shell reports it (128+N for signal N).
 * With `relayTerminal` nsexec relays the caller's terminal, which is raw meanwhile.
 */
export async function waitForeground(channel: NsexecChannel, pid: number, relayTerminal: boolean): Promise<number> {
  const tty = relayTerminal && process.stdin.isTTY ? process.stdin : undefined;
  tty?.setRawMode(true);
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // The process is already gone; its exit event follows.
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    for (;;) {
      const ev = await channel.expect('running', 'exit');
      if (ev.type === 'exit') return ev.status;
    }
  } catch (e) {
    if (e instanceof NsexecError && e.stage === 'protocol') throw new NsexecError('wait', `lost the process ${pid}: ${e.message}`);
    throw e;
  } finally {
    tty?.setRawMode(false);
    for (const s of FORWARDED) process.off(s, forward);
  }
}
