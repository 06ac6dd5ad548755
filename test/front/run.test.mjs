// rocker run/ps/logs/stop/rm driven as the origin project's users did.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { frontFixture, uniqueName } from './helpers.mjs';

let f;
before(async () => {
  f = await frontFixture();
  await f.ok('pull', f.image);
}, { timeout: 120000 });
after(async () => f?.cleanup(), { timeout: 120000 });

const inspect = async (ref) => JSON.parse(await f.ok('inspect', ref))[0];

test('run attached: output on stdout/stderr, the exit code is rocker\'s, --rm removes it', { timeout: 60000 }, async () => {
  const name = uniqueName('attached');
  const r = await f.rocker('run', '--rm', '--name', name, f.image, 'echo out; echo err >&2; exit 3');
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal((await f.rocker('inspect', name)).code, 1);
  assert.deepEqual(readdirSync(join(f.root, 'containers')).filter((e) => !e.startsWith('.')), []);
});
