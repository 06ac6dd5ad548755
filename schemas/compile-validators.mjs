// Build step: compiles the vendored OCI JSON Schemas (and rocker's own) into
// standalone ajv validator code, so no command pays schema compilation at start-up.
// One self-contained module per validator (dist/schemas/validators/NAME.js), so a
// command compiles only the one it uses; dist/schemas/validators.js re-exports them all.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, '..', 'dist', 'schemas', 'validators.js');

// The OCI schemas are draft-04 and reference each other by file name; ajv 8
// understands every keyword they use, so they are loaded keyed by file name
// without checking them against the draft-04 meta-schema.
const ajv = new Ajv({
  strict: false,
  validateSchema: false,
  allErrors: false,
  // A $ref used in several places becomes one function, not a copy per use (smaller code to load).
  inlineRefs: false,
  code: { source: true, esm: true },
  // Only the formats the OCI schemas use; timestamps are RFC 3339.
  formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(z|[+-]\d\d:\d\d)$/i, uri: true },
});

// Load-time fixes only (the files stay as vendored): drop the draft-04 `$schema`
// and `id` markers, and write fragments like `#definitions/x` (accepted by the
// Go validators the spec is tested with) as the JSON pointers ajv requires.
function normalise(node) {
  if (Array.isArray(node)) return node.map(normalise);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$schema' || (k === 'id' && typeof v === 'string')) continue;
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace(/#(?!\/)/, '#/') : normalise(v);
  }
  return out;
}

// Values rocker accepts beyond the vendored enums, layered at load time (the
// files stay as vendored): runc takes the recursive rootfsPropagation forms and
// containerd sends rshared/rslave for pods whose mounts use propagation.
const widen = {
  'defs-linux.json': (s) => s.definitions.RootfsPropagation.enum.push('rprivate', 'rshared', 'rslave', 'runbindable'),
};

function addDir(dir, prefix) {
  for (const name of readdirSync(join(here, dir))) {
    if (!name.endsWith('.json')) continue;
    const schema = normalise(JSON.parse(readFileSync(join(here, dir, name), 'utf8')));
    if (dir === 'runtime-spec') widen[name]?.(schema);
    ajv.addSchema(schema, `${prefix}${name}`);
  }
}
addDir('runtime-spec', 'https://rocker.invalid/runtime-spec/');
addDir('image-spec', 'https://rocker.invalid/image-spec/');
addDir('rocker', 'https://rocker.invalid/rocker/');

const rs = (n) => `https://rocker.invalid/runtime-spec/${n}`;
const is = (n) => `https://rocker.invalid/image-spec/${n}`;
const exportsMap = {
  validateConfig: rs('config-schema.json'),
  // exec's process.json: the process part of the config schema alone (a fraction of its code).
  validateProcess: rs('config-schema.json#/properties/process'),
  validateState: rs('state-schema.json'),
  validateFeatures: rs('features-schema.json'),
  validateImageConfig: is('config-schema.json'),
  validateImageManifest: is('image-manifest-schema.json'),
  validateImageIndex: is('image-index-schema.json'),
  validateImageLayout: is('image-layout-schema.json'),
  validateDescriptor: is('content-descriptor.json'),
};
for (const f of readdirSync(join(here, 'rocker'))) {
  if (!f.endsWith('.schema.json')) continue;
  const base = f.replace(/\.schema\.json$/, '').replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
  exportsMap[`validate${base}`] = `https://rocker.invalid/rocker/${f}`;
}
const dir = join(dirname(out), 'validators');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const [name, ref] of Object.entries(exportsMap)) writeFileSync(join(dir, `${name}.js`), standaloneCode(ajv, { [name]: ref }));
const names = Object.keys(exportsMap);
writeFileSync(out, names.map((n) => `export { ${n} } from './validators/${n}.js';\n`).join(''));
