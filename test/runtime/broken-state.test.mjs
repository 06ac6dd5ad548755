// A container whose state.json is broken (empty, truncated, null, not an object,
// a field missing or of the wrong type): every verb names the file and what is
// wrong (no JavaScript error text), `list` still shows it with status "unknown",
// and `delete --force` kills its processes and removes its cgroups and state dir.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rt, rtDetached, makeBundle, tempDir, uniqueId, cgroupDirsFor, cleanupRoot } from './helpers.mjs';

const opts = { timeout: 120_000 };

const root = tempDir('root');
const bundle = makeBundle((c) => (c.process.args = ['sleep', '1000']));
after(async () => {
  await cleanupRoot(root);
  rmSync(bundle, { recursive: true, force: true });
});

/** The process that started at `startTime` still runs (not a zombie). */
function isSameLive(pid, startTime) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[19]) === startTime && rest[0] !== 'Z' && rest[0] !== 'X';
}

/** Each variant turns the good state.json text into a broken one; `detail` is what the error must say. */
const VARIANTS = [
  { name: 'empty', edit: () => '', detail: /is empty/ },
  { name: 'truncated', edit: (t) => t.slice(0, Math.floor(t.length / 2)), detail: /is not valid JSON/ },
  { name: 'null', edit: () => 'null', detail: /is null, not a JSON object/ },
  { name: 'an array', edit: () => '[]', detail: /is an array/ },
  { name: 'missing cgroupPaths', edit: (t) => JSON.stringify({ ...JSON.parse(t), cgroupPaths: undefined }), detail: /cgroupPaths\W+ must be an object of absolute paths, missing/ },
  { name: 'missing config', edit: (t) => JSON.stringify({ ...JSON.parse(t), config: undefined }), detail: /config\W+ must be an object, missing/ },
  { name: 'pid of the wrong type', edit: (t) => JSON.stringify({ ...JSON.parse(t), pid: 'x' }), detail: /pid\W+ must be a non-negative integer, got/ },
];

const VERBS = [['state'], ['kill', 'KILL'], ['delete'], ['start'], ['exec', 'true'], ['ps'], ['pause'], ['resume'], ['events', '--stats']];

for (const v of VARIANTS) {
  test(`a state.json that is ${v.name}: every verb names it, list shows it, delete --force cleans up`, opts, async () => {
    const id = uniqueId('broken');
    const c = await rtDetached(root, ['create', '--bundle', bundle, id]);
    assert.equal(c.code, 0, c.stderr);
    const s = await rt(root, ['start', id]);
    assert.equal(s.code, 0, s.stderr);
    const file = join(root, id, 'state.json');
    const good = readFileSync(file, 'utf8');
    const { pid, pidStartTime } = JSON.parse(good);
    assert.ok(isSameLive(pid, pidStartTime), 'the init runs');
    writeFileSync(file, v.edit(good));

    for (const verb of VERBS) {
      const [name, ...rest] = verb;
      const r = await rt(root, [name, id, ...rest]);
      assert.notEqual(r.code, 0, `${name} fails`);
      assert.ok(r.stderr.includes(file), `${name} names the file: ${r.stderr}`);
      assert.match(r.stderr, v.detail, `${name} says what is wrong`);
      assert.doesNotMatch(r.stderr, /TypeError|Cannot read properties|undefined/, `${name}: no JavaScript error text`);
    }
    assert.ok(isSameLive(pid, pidStartTime), 'no verb killed the init');

    const table = await rt(root, ['list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${id}\\s+0\\s+unknown\\s`, 'm'));
    assert.ok(table.stderr.includes(`load container ${id}: ${file}`), table.stderr);
    const json = await rt(root, ['list', '--format', 'json']);
    const row = JSON.parse(json.stdout).find((r) => r.id === id);
    assert.equal(row?.status, 'unknown');
    assert.equal(row.pid, 0);
    assert.deepEqual(Object.keys(row), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner']);

    const d = await rt(root, ['delete', '--force', id]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(existsSync(join(root, id)), false, 'state dir removed');
    assert.deepEqual(cgroupDirsFor(id), [], 'cgroups removed');
    for (let i = 0; i < 100 && isSameLive(pid, pidStartTime); i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(isSameLive(pid, pidStartTime), false, 'the init was killed');
  });
}
