// Build step: V8 code caches for the bundled files (FILE.cache next to each FILE),
// made from the exact text bin/load-bundle.cjs compiles.
//   node --random-seed=1 tools/code-cache.mjs FILE...
// Every function is compiled eagerly into the cache: a command then compiles none
// of the functions it runs (a cache of the lazily compiled top level alone saves
// less than half as much). A fixed --random-seed makes the cache byte-identical
// from build to build; V8 leaves that flag out of the flags a cache must match.
// The bins run with no V8 flags: a cache made under other flags or another node is
// rejected by V8, and the loader then compiles from source.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

const { compile } = createRequire(import.meta.url)('../bin/load-bundle.cjs');
const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: code-cache.mjs FILE...');
for (const file of files) {
  setFlagsFromString('--no-lazy');
  const script = compile(file);
  // Back to the default before the cache records the flags it was made under.
  setFlagsFromString('--lazy');
  writeFileSync(`${file}.cache`, script.createCachedData());
}
