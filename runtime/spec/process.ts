// process.json for exec (`--process FILE|-`, as containerd and conmon send it):
// validated against the process part of the runtime-spec schema.
import { readFileSync } from 'node:fs';
import { validateConfig } from '../../schemas/validators.js';
import { assertValid, parseJson } from './validate.js';
import { SpecError, SystemError } from '../errors.js';
import { SPEC_VERSION, type OciProcess } from './types.js';

export function loadProcess(file: string): OciProcess {
  const name = file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new SystemError('open', name, e as Error);
  }
  const proc = parseJson(text, name);
  try {
    // The schema describes a process only inside a config; its path prefix is dropped again.
    assertValid(validateConfig, { ociVersion: SPEC_VERSION, process: proc }, name);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    const detail = e.message.slice(`${name}: ${e.jsonPath || '(root)'}: `.length);
    throw new SpecError(name, e.jsonPath.replace(/^\$\.process/, '$'), detail);
  }
  if (typeof proc !== 'object' || proc === null || Array.isArray(proc)) throw new SpecError(name, '$', 'must be an object');
  return proc as OciProcess;
}
