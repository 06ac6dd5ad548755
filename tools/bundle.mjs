// Build step: one CommonJS file for an entry point, so a command costs one file
// read and no ESM resolution per module (Node's ESM loader spends ~1 ms per
// module, and a lifecycle command imports ~40). No bundler dependency: tsc emits
// a CommonJS copy of the tree (build/cjs), and this wraps each module in a
// function keyed by its dist-relative path, with a 20-line require of its own.
//   node tools/bundle.mjs CJS-ROOT DIST ENTRY OUT DIR...
// ENTRY is dist-relative (runtime/cli/main.js); each DIR's .js files are included
// (lazily evaluated, so a command only runs the modules it requires). The ajv
// standalone validators (dist/schemas/validators.js, ESM) are converted here and
// written to a file of their own next to OUT: they are 2/3 of the code, and
// compiling them is wasted on commands that validate nothing (state, kill, delete).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

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
// The validators are generated as ESM with exactly `export const NAME = ...;` lines.
const validators = readFileSync(join(dist, 'schemas/validators.js'), 'utf8').replace(/\bexport const (\w+) =/g, 'exports.$1 =');
const separate = out.replace(/\.cjs$/, '.validators.cjs');
writeFileSync(separate, `"use strict";\nmodule.exports = function (exports) {\n${validators}\n};\n`);
if (!modules.has(entry)) throw new Error(`entry ${entry} is not under ${dirs.join(', ')}`);

const parts = [
  '"use strict";',
  'const { dirname, join } = require("node:path");',
  'const { pathToFileURL } = require("node:url");',
  'const factories = Object.create(null);',
  'const cache = Object.create(null);',
  // import.meta.url of a module is the URL its ESM twin has in dist, so paths
  // built from it (../../nsexec, build-info.json) resolve the same.
  'function load(key) {',
  '  if (cache[key]) return cache[key].exports;',
  '  const factory = factories[key];',
  '  if (!factory) { const e = new Error(`Cannot find module ${key} in the bundle`); e.code = "MODULE_NOT_FOUND"; throw e; }',
  '  const module = (cache[key] = { exports: {} });',
  '  const req = (spec) => (spec.startsWith(".") ? load(join(dirname(key), spec)) : require(spec));',
  '  factory(module.exports, req, module, pathToFileURL(join(__dirname, key)).href);',
  '  return module.exports;',
  '}',
];
// tsc turns import('pkg') into require('pkg'), which fails for ESM-only packages
// (yargs): a package loaded lazily keeps Node's own dynamic import.
const lazyPackage = /Promise\.resolve\(\)\.then\(\(\) => __importStar\(require\((['"])([^.'"][^'"]*)\1\)\)\)/g;
for (const [key, source] of modules) {
  const body = source
    .replace(/\bimport\.meta\.url\b/g, '__importMetaUrl')
    .replace(lazyPackage, 'import("$2")')
    .replace(/^#!.*\n/, '');
  parts.push(`factories[${JSON.stringify(key)}] = function (exports, require, module, __importMetaUrl) {\n${body}\n};`);
}
parts.push(`factories["schemas/validators.js"] = (exports) => require("./${basename(separate)}")(exports);`);
parts.push(`load(${JSON.stringify(entry)});`);
writeFileSync(out, parts.join('\n') + '\n');
