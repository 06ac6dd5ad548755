// What every runtime command receives: the global flags and the logger.
import type { Logger } from '../log/logger.js';
import type { CommandSpec, ParsedArgs } from './args.js';

export interface GlobalOptions {
  /** State directory root (runc: --root). */
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
}

export interface CommandContext {
  global: GlobalOptions;
  logger: Logger;
}

/** The shape of every module in cli/commands/. */
export interface CommandModule {
  spec: CommandSpec;
  /** Returns the process exit status. */
  run(ctx: CommandContext, parsed: ParsedArgs): Promise<number>;
}
