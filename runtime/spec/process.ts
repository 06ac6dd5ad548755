// process.json for exec (`--process FILE|-`, as containerd and conmon send it):
// validated against the process part of the runtime-spec schema (its own
// validator, 38 KB of code where the whole config's is 244 KB).
import { readFileSync } from 'node:fs';
import { validateProcess } from '../../schemas/validators.js';
import { assertValid, parseJson } from './validate.js';
import { SpecError, SystemError } from '../errors.js';
import type { OciProcess } from './types.js';

export function loadProcess(file: string): OciProcess {
  const name = file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new SystemError('open', name, e as Error);
  }
  const proc = parseJson(text, name);
  assertValid(validateProcess, proc, name);
  if (typeof proc !== 'object' || proc === null || Array.isArray(proc)) throw new SpecError(name, '$', 'must be an object');
  return proc as OciProcess;
}
