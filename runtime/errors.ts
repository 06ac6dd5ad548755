// Typed errors. Every failure the user sees is a RockerError carrying where it
// happened; the CLI prints `msg` and the logger writes it as the last error line.

export class RockerError extends Error {
  /** Process exit status for this failure (runc uses 1, and 255 for a failed exec). */
  exitCode = 1;
  constructor(message: string, readonly context: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** Wrong command-line usage. */
export class UsageError extends RockerError {}

/** config.json (or a process.json / resources file) is invalid. */
export class SpecError extends RockerError {
  constructor(readonly file: string, readonly jsonPath: string, detail: string) {
    super(`${file}: ${jsonPath || '(root)'}: ${detail}`, { file, jsonPath });
  }
}

/** The id names no container in --root. The text matches runc's, which clients match on. */
export class NotFoundError extends RockerError {
  constructor(readonly id: string) {
    super('container does not exist', { id });
  }
}

/**
 * A container's state.json cannot be used (empty, not JSON, a field of the wrong
 * shape). `salvage` holds what could be parsed, for `delete --force`.
 */
export class StateFileError extends RockerError {
  constructor(readonly file: string, detail: string, readonly salvage: Record<string, unknown>) {
    super(`${file}: ${detail} (the container's state is lost: "delete --force" removes what is left of it)`, { file });
  }
}

/** A container is in a state that does not allow the operation. */
export class StateConflictError extends RockerError {}

/** A system call or file operation failed on the runtime side. */
export class SystemError extends RockerError {
  constructor(readonly op: string, readonly path: string, cause: NodeJS.ErrnoException | Error) {
    super(`${op} ${path}: ${cause.message}`, { op, path, code: (cause as NodeJS.ErrnoException).code });
  }
}

/** A failure reported by nsexec from inside the container set-up. */
export class NsexecError extends RockerError {
  constructor(
    readonly stage: string,
    message: string,
    readonly syscall?: string,
    readonly errno?: number,
    readonly path?: string,
  ) {
    super(message, { stage, syscall, errno, path });
  }
}

/** A hook exited non-zero, timed out, or could not be started. */
export class HookError extends RockerError {}
