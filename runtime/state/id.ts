// Container ids follow runc's rule: word characters, '+', '-' and '.', and
// never "." or ".." (the id names a directory under --root).
import { RockerError } from '../errors.js';

const ID_RE = /^[\w+.-]+$/;

export function validateId(id: string): void {
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new RockerError('invalid container ID format');
}
