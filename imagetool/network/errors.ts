// Network failures the user sees: which network, container or plugin, and why.
import { RockerError } from '../../runtime/errors.js';

/** A network operation was refused or failed (bad input, conflict, plugin error). */
export class NetworkError extends RockerError {}

/** A CNI plugin reported an error (its JSON error object) or could not be run. */
export class PluginError extends NetworkError {
  constructor(readonly plugin: string, readonly command: string, detail: string, readonly code?: number) {
    super(`CNI plugin ${plugin} (${command}): ${detail}`, { plugin, command, code });
  }
}
