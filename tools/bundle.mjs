// Build step: one CommonJS-style file for an entry point, so a command costs one
// file read and no ESM resolution per module (Node's ESM loader spends ~1 ms per
// module, and a lifecycle command imports ~40). No bundler dependency: tsc emits
// a CommonJS copy of the tree (build/cjs), and this wraps each module in a
// function keyed by its dist-relative path.
//   node tools/bundle.mjs CJS-ROOT DIST ENTRY OUT DIR...
// ENTRY is dist-relative (runtime/cli/main.js); each DIR's .js files are included
// (lazily evaluated, so a command only runs the modules it requires). The output
// is run by bin/load-bundle.cjs, which provides `__rocker` (load, import). The ajv
// standalone validators (dist/schemas/validators/NAME.js, ESM, one per validator)
// are converted to NAME.cjs next to them and loaded on first use: they are 2/3 of
// the code, and a command compiles only the one it calls (create: the config's).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, posix } from 'node:path';

const [cjsRoot, dist, entry, out, ...dirs] = process.argv.slice(2);
if (!out || dirs.length === 0) throw new Error('usage: bundle.mjs CJS-ROOT DIST ENTRY OUT DIR...');

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.js'))
    .map((d) => join(d.parentPath ?? d.path, d.name));
}

const modules = new Map();
for (const dir of dirs) {
  for (const file of jsFiles(join(cjsRoot, dir))) modules.set(relative(cjsRoot, file), readFileSync(file, 'utf8'));
}
const VALIDATORS = 'schemas/validators.js';
// Each is generated as ESM with exactly one `export const NAME = ...;` line.
const validatorDir = join(dist, 'schemas/validators');
const validatorNames = readdirSync(validatorDir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort();
for (const name of validatorNames) {
  const esm = readFileSync(join(validatorDir, `${name}.js`), 'utf8');
  writeFileSync(join(validatorDir, `${name}.cjs`), `"use strict";\n${esm.replace(/\bexport const (\w+) =/g, 'exports.$1 =')}\n`);
}
if (!modules.has(entry)) throw new Error(`entry ${entry} is not under ${dirs.join(', ')}`);

const parts = [
  '"use strict";',
  'const __rockerFactories = Object.create(null);',
  'const __rockerCache = Object.create(null);',
  'function __rockerLoad(key) {',
  '  const cached = __rockerCache[key];',
  '  if (cached) return cached.exports;',
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
];
// tsc turns import('pkg') into require('pkg'), which fails for ESM-only packages
// (yargs): a package loaded lazily keeps a real dynamic import, through the loader.
const lazyPackage = /Promise\.resolve\(\)\.then\(\(\) => __importStar\(require\((['"])([^.'"][^'"]*)\1\)\)\)/g;
const relativeRequire = /\brequire\((['"])(\.{1,2}\/[^'"]*)\1\)/g;
for (const [key, source] of modules) {
  const resolve = (spec) => {
    const target = posix.join(posix.dirname(key), spec);
    if (target !== VALIDATORS && !modules.has(target)) throw new Error(`${key}: ${spec} is not in the bundle`);
    return target;
  };
  const body = source
    .replace(/\bimport\.meta\.url\b/g, `__rockerMetaUrl(${JSON.stringify(key)})`)
    .replace(lazyPackage, '__rocker.import("$2")')
    .replace(relativeRequire, (_, __, spec) => `__rockerLoad(${JSON.stringify(resolve(spec))})`)
    .replace(/^#!.*\n/, '');
  parts.push(`__rockerFactories[${JSON.stringify(key)}] = function (exports, require, module) {\n${body}\n};`);
}
// Getters that load a validator on first use and then stay a plain property.
parts.push(
  `__rockerFactories[${JSON.stringify(VALIDATORS)}] = (exports, require) => {`,
  `  for (const name of ${JSON.stringify(validatorNames)}) {`,
  '    Object.defineProperty(exports, name, { enumerable: true, configurable: true, get() {',
  `      const value = __rocker.load(require("node:path").join(__dirname, "schemas/validators", name + ".cjs"))[name];`,
  '      Object.defineProperty(exports, name, { enumerable: true, value });',
  '      return value;',
  '    } });',
  '  }',
  '};',
);
parts.push(`__rockerLoad(${JSON.stringify(entry)});`);
writeFileSync(out, parts.join('\n') + '\n');
