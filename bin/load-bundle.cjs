// Runs a file built by tools/bundle.mjs from V8's code cache (FILE.cache, made by
// tools/code-cache.mjs at `make` time): the compile that a cold start would do
// for every function a command runs is read back instead. A cache V8 rejects (other
// node, V8 or flags) costs only that compile: V8 then compiles the text itself.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { dirname } = require('node:path');
const { Script } = require('node:vm');

/** The file as one function; the cache is made from exactly this text. */
function compile(file, cachedData) {
  const source = readFileSync(file, 'utf8');
  const wrapped = `(function (exports, require, module, __filename, __dirname, __rocker) {${source}\n})`;
  return new Script(wrapped, { filename: file, cachedData });
}

function readCache(file) {
  const cache = `${file}.cache`;
  try {
    // V8 checks the source's length, not its text: a file changed after the
    // cache was made must not run the old code.
    if (statSync(cache).mtimeMs < statSync(file).mtimeMs) return undefined;
    return readFileSync(cache);
  } catch {
    return undefined; // not built yet: compile from source
  }
}

/** What bundled code gets as __rocker: loading another bundled file, and import() (a vm.Script has none). */
const host = {
  load(file) {
    const fn = compile(file, readCache(file)).runInThisContext();
    const module = { exports: {} };
    fn.call(module.exports, module.exports, require, module, file, dirname(file), host);
    return module.exports;
  },
  import: (specifier) => import(specifier),
};

module.exports = { compile, load: host.load };
