// Build step: an entry point's modules as a few CommonJS-style files, so a
// command costs a file read or two and no ESM resolution per module (Node's ESM
// loader spends ~1 ms per module, and a lifecycle command imports ~40). No
// bundler dependency: tsc emits a CommonJS copy of the tree (build/cjs), and this
// wraps each module in a function keyed by its dist-relative path.
//   node tools/bundle.mjs [--core KEY,...] [--chunk NAME:KEY,...]... CJS-ROOT DIST ENTRY OUT DIR...
// ENTRY is dist-relative (runtime/cli/main.js); each DIR's .js files are included
// (lazily evaluated, so a command only runs the modules it requires). OUT gets
// ENTRY, the --core KEYs and what they import statically; each --chunk (in order) gets what its
// KEYs import statically and no earlier file has, written to OUT.NAME.cjs, and
// the remaining modules (imported lazily or not at all) go to OUT.rest.cjs. A chunk is read (and its code cache
// deserialised) only when one of its modules is first required: reading,
// decoding and deserialising cost in proportion to size, so the light verbs
// pay for the modules they use, not for all of them.
// The files are run by bin/load-bundle.cjs, which provides `__rocker` (load,
// import). The ajv standalone validators (dist/schemas/validators/NAME.js, ESM,
// one per validator) are converted to NAME.cjs next to them and loaded on first
// use: a command compiles only the one it calls (create: the config's).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative, posix } from 'node:path';

const argv = process.argv.slice(2);
const core = [];
const chunkSpecs = [];
for (; argv[0] === '--core' || argv[0] === '--chunk'; argv.splice(0, 2)) {
  if (argv[0] === '--core') core.push(...argv[1].split(','));
  else chunkSpecs.push({ name: argv[1].split(':')[0], keys: argv[1].split(':')[1].split(',') });
}
const [cjsRoot, dist, entry, out, ...dirs] = argv;
if (!out || dirs.length === 0) throw new Error('usage: bundle.mjs [--core KEY,...] [--chunk NAME:KEY,...]... CJS-ROOT DIST ENTRY OUT DIR...');

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.js'))
    .map((d) => join(d.parentPath ?? d.path, d.name));
}

const modules = new Map();
for (const dir of dirs) {
  for (const file of jsFiles(join(cjsRoot, dir))) modules.set(relative(cjsRoot, file), readFileSync(file, 'utf8'));
}
if (!modules.has(entry)) throw new Error(`entry ${entry} is not under ${dirs.join(', ')}`);

const VALIDATORS = 'schemas/validators.js';
// Each is generated as ESM with exactly one `export const NAME = ...;` line.
const validatorDir = join(dist, 'schemas/validators');
const validatorNames = readdirSync(validatorDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
for (const name of validatorNames) {
  const esm = readFileSync(join(validatorDir, `${name}.js`), 'utf8');
  writeFileSync(join(validatorDir, `${name}.cjs`), `"use strict";\n${esm.replace(/\bexport const (\w+) =/g, 'exports.$1 =')}\n`);
}

// tsc turns import('pkg') into require('pkg'), which fails for ESM-only packages
// (yargs): a package loaded lazily keeps a real dynamic import, through the loader.
const lazyPackage = /Promise\.resolve\(\)\.then\(\(\) => __importStar\(require\((['"])([^.'"][^'"]*)\1\)\)\)/g;
// A lazy import('./x.js') of a module: not a static edge when chunks are formed.
const lazyModule = /Promise\.resolve\(\)\.then\(\(\) => __importStar\(require\((['"])\.{1,2}\/[^'"]*\1\)\)\)/g;
const relativeRequire = /\brequire\((['"])(\.{1,2}\/[^'"]*)\1\)/g;

function resolveIn(key, spec) {
  const target = posix.join(posix.dirname(key), spec);
  if (target !== VALIDATORS && !modules.has(target)) throw new Error(`${key}: ${spec} is not in the bundle`);
  return target;
}

/** KEYs and every module they import statically. */
function staticClosure(keys) {
  const seen = new Set();
  const todo = [...keys];
  while (todo.length) {
    const key = todo.pop();
    if (seen.has(key) || key === VALIDATORS) continue;
    if (!modules.has(key)) throw new Error(`${key} is not in the bundle`);
    seen.add(key);
    for (const m of modules.get(key).replace(lazyModule, '').matchAll(relativeRequire)) todo.push(resolveIn(key, m[2]));
  }
  return seen;
}

// Which file each module goes to: OUT (chunk ""), then the --chunk files, then rest.
const fileOf = new Map();
const chunkFile = (name) => (name ? out.replace(/\.cjs$/, `.${name}.cjs`) : out);
for (const { name, keys } of [{ name: '', keys: [entry, ...core] }, ...chunkSpecs]) {
  for (const key of staticClosure(keys)) if (!fileOf.has(key)) fileOf.set(key, chunkFile(name));
}
for (const key of modules.keys()) if (!fileOf.has(key)) fileOf.set(key, chunkFile('rest'));

function factory(key) {
  const body = modules
    .get(key)
    .replace(/\bimport\.meta\.url\b/g, `__rockerMetaUrl(${JSON.stringify(key)})`)
    .replace(lazyPackage, '__rocker.import("$2")')
    .replace(relativeRequire, (_, __, spec) => `__rockerLoad(${JSON.stringify(resolveIn(key, spec))})`)
    .replace(/^#!.*\n/, '');
  return `__rockerFactories[${JSON.stringify(key)}] = function (exports, require, module) {\n${body}\n};`;
}
const keysIn = (file) => [...modules.keys()].filter((k) => fileOf.get(k) === file);

const chunkOf = Object.fromEntries([...fileOf].filter(([, f]) => f !== out).map(([k, f]) => [k, basename(f)]));
const parts = [
  '"use strict";',
  'const __rockerFactories = Object.create(null);',
  'const __rockerCache = Object.create(null);',
  // Modules in the chunk files, by the file that registers them when first needed.
  `const __rockerChunkOf = ${JSON.stringify(chunkOf)};`,
  'function __rockerLoad(key) {',
  '  const cached = __rockerCache[key];',
  '  if (cached) return cached.exports;',
  '  if (!__rockerFactories[key] && __rockerChunkOf[key]) {',
  '    __rocker.load(require("node:path").join(__dirname, __rockerChunkOf[key]))(__rockerFactories, __rockerLoad, __rockerMetaUrl);',
  '  }',
  '  const factory = __rockerFactories[key];',
  '  if (!factory) { const e = new Error(`Cannot find module ${key} in the bundle`); e.code = "MODULE_NOT_FOUND"; throw e; }',
  '  const module = (__rockerCache[key] = { exports: {} });',
  '  factory(module.exports, (spec) => __rockerRequire(key, spec), module);',
  '  return module.exports;',
  '}',
  // Only computed specifiers get here (literal relative ones are resolved at build time).
  'function __rockerRequire(key, spec) {',
  '  if (!spec.startsWith(".")) return require(spec);',
  '  return __rockerLoad(require("node:path").posix.join(key, "..", spec));',
  '}',
  // import.meta.url of a module is the URL its ESM twin has in dist, so paths
  // built from it (../../nsexec, build-info.json) resolve the same. Made on use only.
  'function __rockerMetaUrl(key) {',
  '  return require("node:url").pathToFileURL(require("node:path").join(__dirname, key)).href;',
  '}',
  ...keysIn(out).map(factory),
  // Getters that load a validator on first use and then stay a plain property.
  `__rockerFactories[${JSON.stringify(VALIDATORS)}] = (exports, require) => {`,
  `  for (const name of ${JSON.stringify(validatorNames)}) {`,
  '    Object.defineProperty(exports, name, { enumerable: true, configurable: true, get() {',
  `      const value = __rocker.load(require("node:path").join(__dirname, "schemas/validators", name + ".cjs"))[name];`,
  '      Object.defineProperty(exports, name, { enumerable: true, value });',
  '      return value;',
  '    } });',
  '  }',
  '};',
  `__rockerLoad(${JSON.stringify(entry)});`,
];
writeFileSync(out, parts.join('\n') + '\n');
// A chunk file registers its factories into OUT's table when loaded.
for (const file of new Set(fileOf.values())) {
  if (file === out) continue;
  const body = ['"use strict";', 'module.exports = function (__rockerFactories, __rockerLoad, __rockerMetaUrl) {', ...keysIn(file).map(factory), '};'];
  writeFileSync(file, body.join('\n') + '\n');
}
