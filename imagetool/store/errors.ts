// Store failures, each naming the blob, ref or file concerned.
import { RockerError } from '../../runtime/errors.js';

/** Content whose digest or size is not what it was announced as. Nothing was stored. */
export class DigestMismatchError extends RockerError {
  constructor(readonly expected: string, readonly actual: string, what = 'blob') {
    super(`${what} digest mismatch: expected ${expected}, got ${actual}`, { expected, actual });
  }
}

export class SizeMismatchError extends RockerError {
  constructor(readonly digest: string, readonly expected: number, readonly actual: number) {
    super(`blob ${digest}: expected ${expected} bytes, got ${actual}`, { digest, expected, actual });
  }
}

/** No image in the store by that name or id. */
export class ImageNotFoundError extends RockerError {
  constructor(readonly name: string) {
    super(`image not known: ${name}`, { name });
  }
}

export class BlobNotFoundError extends RockerError {
  constructor(readonly digest: string) {
    super(`blob not in store: ${digest}`, { digest });
  }
}

/** A stored or fetched document that fails its schema or is not what it claims. */
export class InvalidContentError extends RockerError {}
