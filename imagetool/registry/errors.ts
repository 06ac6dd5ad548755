// Registry failures, each naming the registry URL and what the server said.
import { RockerError } from '../../runtime/errors.js';

export class RegistryError extends RockerError {
  /** Set when retrying cannot help (unknown host, certificate rejected). */
  permanent = false;
  constructor(message: string, readonly url?: string, readonly status?: number) {
    super(message, { url, status });
  }
}

/** 401/403 that credentials (or their absence) could not get past. */
export class AuthError extends RegistryError {}

/** 404 for a manifest or blob. */
export class NotFoundInRegistryError extends RegistryError {}

/** Something the client refuses on purpose (schema 1, unknown media type, oversize). */
export class UnsupportedError extends RegistryError {}
