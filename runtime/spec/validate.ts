// Schema validation with the validators ajv compiled at build time
// (dist/schemas/validators.js), so no schema is compiled at run time.
import { SpecError } from '../errors.js';
import type { Validator } from '../../schemas/validator-types.js';

/** Throws a SpecError naming the file, the JSON path and what was expected. */
export function assertValid(validate: Validator, data: unknown, file: string): void {
  if (validate(data)) return;
  const err = validate.errors?.[0];
  if (!err) throw new SpecError(file, '', 'does not match its schema');
  const pointer = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
  const params = err.params as Record<string, unknown>;
  let detail = err.message ?? 'is invalid';
  if (err.keyword === 'enum') detail += `: ${JSON.stringify(params.allowedValues)}, got ${JSON.stringify(valueAt(data, err.instancePath))}`;
  if (err.keyword === 'additionalProperties') detail += `: ${JSON.stringify(params.additionalProperty)}`;
  throw new SpecError(file, pointer ? `$${pointer}` : '$', detail);
}

/** The value at a JSON pointer inside `data` (undefined when absent). */
function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

/** Parses JSON text, turning a syntax error into a SpecError for `file`. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpecError(file, '', `invalid JSON: ${(e as Error).message}`);
  }
}
