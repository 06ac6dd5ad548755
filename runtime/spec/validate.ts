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

/**
 * How deeply arrays and objects may nest in the JSON files the runtime reads.
 * Real configs nest under 20 levels; JSON.stringify and the schema validators
 * recurse, and overflow Node's stack a few thousand levels down. nsexec's parser
 * allows a little more (NSX_JSON_MAX_DEPTH in nsexec/src/jsonutil.h), as its
 * messages nest a config's parts one level deeper at most.
 */
export const MAX_JSON_DEPTH = 1000;

/** Refuses text nesting deeper than MAX_JSON_DEPTH, naming `file` and where. */
export function assertNesting(text: string, file: string): void {
  // Each level takes an opening and a closing bracket: shorter text cannot be too deep.
  if (text.length <= 2 * MAX_JSON_DEPTH) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new SpecError(file, '', `arrays and objects nest deeper than ${MAX_JSON_DEPTH} levels (at character ${i})`);
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

/** Parses JSON text, turning a syntax error (or too deep nesting) into a SpecError for `file`. */
export function parseJson(text: string, file: string): unknown {
  assertNesting(text, file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SpecError(file, '', `invalid JSON: ${(e as Error).message}`);
  }
}
