// Failures say what failed and why: hooks run by nsexec name their stage, index
// and path, with the exec error or the end of their output; a failing
// startContainer hook fails `start` (and --log) and destroys the container; a
// config nesting too deep is refused by name, while a deep but sane extension
// object (which runc accepts) reaches nsexec intact; an nsexec error line too
// long for one protocol line is cut, never dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rt, rtDetached, runCmd, makeBundle, uniqueId, cgroupDirsFor, suiteFixture } from './helpers.mjs';

const opts = { timeout: 60_000 };

const { root, runcRoot, dirs } = suiteFixture();

function bundle(edit) {
  const b = makeBundle(edit);
  dirs.push(b);
  return b;
}

function assertGone(id) {
  assert.equal(existsSync(join(root, id)), false, 'state dir removed');
  assert.deepEqual(cgroupDirsFor(id), [], 'cgroups removed');
}

/** The last "level":"error" line of a JSON --log. */
function lastError(log) {
  return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.level === 'error').at(-1)?.msg;
}

/** An object nested `levels` deep ({"a":{"a":...{}}}); the object itself is one level. */
function nested(levels) {
  let o = {};
  for (let i = 1; i < levels; i++) o = { a: o };
  return o;
}

test('a createContainer hook that cannot be executed is named with its path and the exec error', opts, async () => {
  const id = uniqueId('cc-exec');
  const b = bundle((c) => {
    c.process.args = ['true'];
    c.hooks = { createContainer: [{ path: '/bin/true' }, { path: '/nonexistent/hook' }] };
  });
  const log = join(b, 'log.json');
  const r = await rtDetached(root, ['--log', log, '--log-format', 'json', 'create', '-b', b, id]);
  assert.equal(r.code, 1);
  assert.match(lastError(log), /^createContainer hook #1 \(\/nonexistent\/hook\): error running hook: exec: no such file or directory$/);
  assertGone(id);
});

test('a failing createContainer hook is named with its exit status and the end of its output', opts, async () => {
  const id = uniqueId('cc-exit');
  const b = bundle((c) => {
    c.process.args = ['true'];
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo to-stdout; echo the reason >&2; exit 3'] }] };
  });
  const r = await rtDetached(root, ['create', '-b', b, id]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /createContainer hook #0 \(\/bin\/sh\): error running hook: exit status 3, stdout: to-stdout, stderr: the reason/);
  assert.equal(r.stdout, '', "the hook's output is kept for the error, not written to the runtime's stdout");
  assertGone(id);
});

test('a failing startContainer hook fails start (also in --log) and destroys the container', opts, async () => {
  const id = uniqueId('sc-fail');
  const b = bundle((c) => {
    c.process.args = ['sleep', '100'];
    // startContainer hooks run in the container: this is the rootfs's busybox sh.
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo cannot start >&2; exit 4'] }] };
  });
  const c = await rtDetached(root, ['create', '-b', b, id]);
  assert.equal(c.code, 0, c.stderr);
  const log = join(b, 'log.json');
  const s = await rt(root, ['--log', log, '--log-format', 'json', 'start', id]);
  assert.notEqual(s.code, 0, 'start fails');
  const want = /^startContainer hook #0 \(\/bin\/sh\): error running hook: exit status 4, stdout: , stderr: cannot start$/;
  assert.match(s.stderr.trim(), want);
  assert.match(lastError(log), want);
  assertGone(id);
});

test('a config.json nested 100,000 levels deep is refused by name; 1,000 levels still run', opts, async () => {
  const id = uniqueId('deep');
  const b = bundle((c) => (c.process.args = ['true']));
  const config = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  const text = JSON.stringify(config);
  writeFileSync(join(b, 'config.json'), `${text.slice(0, -1)},"x-deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  const r = await rt(root, ['run', '-b', b, id]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(join(b, 'config.json')), r.stderr);
  assert.match(r.stderr, /nest deeper than 1000 levels/);
  assert.doesNotMatch(r.stderr, /call stack/);
  assertGone(id);

  // config (1) > linux (2) > the extension, 998 more: 1000 levels, the limit.
  config.linux['x-limit'] = nested(998);
  writeFileSync(join(b, 'config.json'), JSON.stringify(config));
  const ok = await rt(root, ['run', '-b', b, id]);
  assert.equal(ok.code, 0, ok.stderr);
  assertGone(id);
});

test('a 40-level extension object reaches nsexec intact (runc accepts it too)', opts, async () => {
  const b = bundle((c) => {
    c.process.args = ['true'];
    c.linux['x-extension'] = nested(40);
    c.process['x-extension'] = nested(40);
  });
  const id = uniqueId('ext40');
  const r = await rt(root, ['run', '-b', b, id]);
  assert.equal(r.code, 0, r.stderr);
  assertGone(id);
  const runc = await runCmd('runc', ['--root', runcRoot, 'run', '-b', b, id]);
  assert.equal(runc.code, 0, `runc: ${runc.stderr}`);

  // exec passes the process on as well: a process.json nested 40 levels deep.
  const idx = uniqueId('ext40-exec');
  const sb = bundle((c) => (c.process.args = ['sleep', '100']));
  assert.equal((await rtDetached(root, ['run', '-d', '-b', sb, idx])).code, 0);
  const proc = JSON.parse(readFileSync(join(sb, 'config.json'), 'utf8')).process;
  proc.args = ['true'];
  proc['x-extension'] = nested(40);
  writeFileSync(join(sb, 'process.json'), JSON.stringify(proc));
  const e = await rt(root, ['exec', '--process', join(sb, 'process.json'), idx]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal((await rt(root, ['delete', '--force', idx])).code, 0);
});

test('an nsexec error line longer than 8 KiB is cut, not dropped', opts, async () => {
  const id = uniqueId('long-error');
  // Each control character takes six bytes once escaped: 3,000 of them make an 18 KB line.
  const path = `/nonexistent-${'\u0001'.repeat(3000)}`;
  const b = bundle((c) => {
    c.process.args = ['true'];
    c.hooks = { createContainer: [{ path }] };
  });
  const log = join(b, 'log.json');
  const r = await rtDetached(root, ['--log', log, '--log-format', 'json', 'create', '-b', b, id]);
  assert.equal(r.code, 1);
  const msg = lastError(log);
  assert.match(msg, /^createContainer hook #0 \(\/nonexistent-\u0001+/, 'the error itself, not a lost one');
  assertGone(id);
});
