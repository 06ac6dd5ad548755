// Runtime commands that need no running container: spec, features, bad input
// (which must leave nothing behind), unknown ids, list, --log json lines.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig, validateFeatures } from '../../dist/schemas/validators.js';
import { rt, makeBundle, tempDir, uniqueId, cgroupDirsFor, cleanupRoot } from './helpers.mjs';

const root = tempDir('root');
const dirs = [];
after(async () => {
  await cleanupRoot(root);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function bundle(edit) {
  const b = makeBundle(edit);
  dirs.push(b);
  return b;
}

test('spec writes a config.json that validates, and refuses to overwrite it', async () => {
  const b = tempDir('spec');
  dirs.push(b);
  assert.equal((await rt(root, ['spec', '--bundle', b])).code, 0);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  assert.equal(validateConfig(config), true, JSON.stringify(validateConfig.errors));
  assert.equal(config.root.path, 'rootfs');
  assert.deepEqual(config.process.args, ['sh']);
  const again = await rt(root, ['spec', '-b', b]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /File config\.json exists\. Remove it first/);
});

test('spec --rootless maps the caller to root in a user namespace and has no network namespace', async () => {
  const b = tempDir('spec');
  dirs.push(b);
  assert.equal((await rt(root, ['spec', '--rootless', '-b', b])).code, 0);
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  assert.equal(validateConfig(config), true, JSON.stringify(validateConfig.errors));
  const types = config.linux.namespaces.map((n) => n.type);
  assert.ok(types.includes('user') && !types.includes('network'));
  assert.deepEqual(config.linux.uidMappings, [{ containerID: 0, hostID: process.geteuid(), size: 1 }]);
});

test('features describes rocker and validates against the features schema', async () => {
  const r = await rt(root, ['features']);
  assert.equal(r.code, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  assert.equal(validateFeatures(f), true, JSON.stringify(validateFeatures.errors));
  assert.equal(f.ociVersionMax, '1.3.0');
  assert.ok(f.hooks.includes('createRuntime'));
  assert.ok(f.linux.namespaces.includes('pid'));
  assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
});

/** A create that must fail before anything exists: the error names file and path; nothing is left. */
async function assertRejected(b, pattern) {
  const id = uniqueId('bad');
  const log = join(b, 'log.json');
  const r = await rt(root, ['--log', log, '--log-format', 'json', 'create', '--bundle', b, id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, pattern);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const last = lines.filter((l) => l.level === 'error').at(-1);
  assert.match(last.msg, pattern);
  assert.ok(last.time);
  assert.equal(existsSync(join(root, id)), false, 'no state dir');
  assert.deepEqual(cgroupDirsFor(id), [], 'no cgroup');
}

test('an invalid config.json is rejected naming the file and the JSON path', async () => {
  const b = bundle((c) => {
    c.process.args = 'sh';
  });
  await assertRejected(b, new RegExp(`${join(b, 'config.json')}: \\$\\.process\\.args: must be array`));
});

test('every bad config of the spec test suite is rejected by create', async () => {
  const badDir = new URL('../../schemas/runtime-spec/test/config/bad/', import.meta.url).pathname;
  for (const name of readdirSync(badDir)) {
    const b = bundle();
    writeFileSync(join(b, 'config.json'), readFileSync(join(badDir, name)));
    await assertRejected(b, /config\.json: /);
  }
});

test('a missing rootfs is refused clearly', async () => {
  const b = bundle((c) => {
    c.root.path = 'no-such-rootfs';
  });
  await assertRejected(b, /\$\.root\.path: rootfs \(".*no-such-rootfs"\) does not exist/);
});

test('an unknown capability is refused with its path', async () => {
  const b = bundle((c) => {
    c.process.capabilities.bounding.push('CAP_NOT_A_CAP');
  });
  await assertRejected(b, /\$\.process\.capabilities\.bounding\[3\]: unknown capability "CAP_NOT_A_CAP"/);
});

test('a device cgroup rule whose access has none of r, w, m is refused naming the field', async () => {
  for (const access of ['a', 'x']) {
    const b = bundle((c) => {
      c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3, access });
    });
    const at = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')).linux.resources.devices.length - 1;
    await assertRejected(b, new RegExp(`\\$\\.linux\\.resources\\.devices\\[${at}\\]\\.access: invalid device access "${access}": expected a combination of r, w and m`));
  }
});

test('the recursive rootfsPropagation values runc takes pass validation; others are refused', async () => {
  for (const value of ['rprivate', 'rshared', 'rslave', 'runbindable']) {
    const config = JSON.parse(readFileSync(join(bundle(), 'config.json'), 'utf8'));
    config.linux.rootfsPropagation = value;
    assert.equal(validateConfig(config), true, `${value}: ${JSON.stringify(validateConfig.errors)}`);
  }
  const b = bundle((c) => {
    c.linux.rootfsPropagation = 'rsomething';
  });
  await assertRejected(b, /\$\.linux\.rootfsPropagation: must be equal to one of the allowed values: .*"rshared".*, got "rsomething"/);
});

test('invalid container ids are refused', async () => {
  const b = bundle();
  for (const id of ['../x', 'a/b', '.', 'a b']) {
    const r = await rt(root, ['create', '-b', b, id]);
    assert.equal(r.code, 1, id);
    assert.match(r.stderr, /invalid container ID format/);
  }
  assert.deepEqual(readdirSync(root).filter((n) => !n.startsWith('.')), []);
});

test('unknown ids: state/kill/delete fail with "container does not exist", delete --force succeeds', async () => {
  const id = uniqueId('none');
  for (const args of [['state', id], ['kill', id, 'KILL'], ['delete', id], ['start', id]]) {
    const r = await rt(root, args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /container does not exist/);
  }
  assert.equal((await rt(root, ['delete', '--force', id])).code, 0);
  const ex = await rt(root, ['exec', id, 'true']);
  assert.equal(ex.code, 255);
  assert.match(ex.stderr, /container does not exist/);
});

test('list of an empty or missing root prints the header, null, or nothing, as runc', async () => {
  const missing = join(root, 'missing-root');
  const t = await rt(missing, ['list']);
  assert.equal(t.code, 0);
  assert.equal(t.stdout, 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  assert.equal((await rt(missing, ['list', '--format', 'json'])).stdout, 'null\n');
  assert.equal((await rt(missing, ['list', '-q'])).stdout, '');
});

test('exec --process rejects an invalid process.json naming the file and path, exit 255', async () => {
  const b = bundle();
  const file = join(b, 'process.json');
  writeFileSync(file, JSON.stringify({ cwd: '/', user: { uid: 0, gid: 0 }, args: 'sh' }));
  const r = await rt(root, ['exec', '--process', file, uniqueId('p')]);
  assert.equal(r.code, 255);
  assert.match(r.stderr, new RegExp(`${file}: \\$\\.args: must be array`));
});

// Signal names and numbers: test/check/args.test.mjs.
test('kill refuses an unknown signal', async () => {
  const r = await rt(root, ['kill', uniqueId('sig'), 'NOPE']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown signal \\?"NOPE\\?"/);
});

test('a terminal create without a console socket is refused before anything exists', async () => {
  const b = bundle((c) => {
    c.process.terminal = true;
  });
  await assertRejected(b, /cannot allocate tty if rocker-runtime will detach without setting console socket/);
});
