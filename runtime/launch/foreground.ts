// Waiting for a foreground process (run without -d, exec without -d): the
// nsexec parent reports `exit`; meanwhile the signals a terminal or a
// supervisor sends to the runtime are forwarded to the process.
import type { NsexecChannel } from './channel.js';
import { NsexecError } from '../errors.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

function send(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // The process is already gone; its exit event follows.
  }
}

/**
 * The runtime's handlers for the forwarded signals. They can be installed before
 * the process's pid is known (exec does so while nsexec works, off its critical
 * path); a signal that comes earlier is sent once it is.
 */
export class SignalForwarder {
  private pid?: number;
  private readonly held: NodeJS.Signals[] = [];
  private readonly onSignal = (sig: NodeJS.Signals) => {
    if (this.pid === undefined) this.held.push(sig);
    else send(this.pid, sig);
  };

  constructor() {
    for (const s of FORWARDED) process.on(s, this.onSignal);
  }

  target(pid: number): void {
    this.pid = pid;
    for (const s of this.held.splice(0)) send(pid, s);
  }

  stop(): void {
    for (const s of FORWARDED) process.off(s, this.onSignal);
  }
}

/**
 * Resolves with the exit status as a shell reports it (128+N for signal N).
 * With `relayTerminal` nsexec relays the caller's terminal, which is raw meanwhile.
 * `signals` null: nothing is forwarded (the containerd shim's own signals are its own).
 */
export async function waitForeground(
  channel: NsexecChannel,
  pid: number,
  relayTerminal: boolean,
  signals: SignalForwarder | null = new SignalForwarder(),
): Promise<number> {
  const tty = relayTerminal && process.stdin.isTTY ? process.stdin : undefined;
  tty?.setRawMode(true);
  signals?.target(pid);
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
    signals?.stop();
  }
}
