// The vendored runtime-spec examples: every bad config is rejected, every good
// linux one passes, through the validators compiled at build time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../dist/schemas/validators.js';
import { assertValid, parseJson } from '../../dist/runtime/spec/validate.js';

const dir = new URL('../../schemas/runtime-spec/test/config/', import.meta.url).pathname;

function check(file) {
  const data = parseJson(readFileSync(file, 'utf8'), file);
  assertValid(validateConfig, data, file);
}

for (const name of readdirSync(join(dir, 'good')).filter((n) => !/^(freebsd|zos)-/.test(n))) {
  test(`good config ${name} validates`, () => check(join(dir, 'good', name)));
}

for (const name of readdirSync(join(dir, 'bad'))) {
  test(`bad config ${name} is rejected with file and JSON path`, () => {
    const file = join(dir, 'bad', name);
    assert.throws(() => check(file), (e) => {
      assert.equal(e.name, 'SpecError');
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      if (!name.startsWith('invalid-json')) assert.match(e.message, /\$\.[a-z]/);
      return true;
    });
  });
}
