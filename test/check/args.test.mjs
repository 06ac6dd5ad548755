// Command lines: the runtime's runc-style flag parser with the real verb specs,
// signal names, container ids, and the image tool's fast path and run flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, checkArgCount, usageText } from '../../dist/runtime/cli/args.js';
import { spec as execSpec } from '../../dist/runtime/cli/commands/exec.js';
import { spec as createSpec } from '../../dist/runtime/cli/commands/create.js';
import { spec as killSpec } from '../../dist/runtime/cli/commands/kill.js';
import { parseSignal } from '../../dist/runtime/state/signals.js';
import { validateId } from '../../dist/runtime/state/id.js';
import { fastPath } from '../../dist/imagetool/cli/fast-path.js';
import { parseMemory, applyEnvFlags, volumeMount } from '../../dist/imagetool/bundle/run-options.js';
import { UsageError } from '../../dist/runtime/errors.js';

const usage = (re) => (e) => e instanceof UsageError && re.test(e.message);

test('runc flag forms: --flag value, --flag=value, -f, lists, numbers, booleans, defaults', () => {
  const p = parseFlags(['-b', '/b', '--pid-file=/p', '--preserve-fds', '2', '--no-pivot', 'id1'], createSpec.flags, 'create');
  assert.equal(p.flags.bundle, '/b');
  assert.equal(p.flags['pid-file'], '/p');
  assert.equal(p.flags['preserve-fds'], 2);
  assert.equal(p.flags['no-pivot'], true);
  assert.deepEqual(p.args, ['id1']);
  const e = parseFlags(['-e', 'A=1', '--env', 'B=2', '--tty=false', '-u', '1000:1000', 'ctr', 'sh', '-c', 'echo -e x'], execSpec.flags, 'exec', execSpec.flagsEndAfterPositionals);
  assert.deepEqual(e.flags.env, ['A=1', 'B=2']);
  assert.equal(e.flags.tty, false);
  assert.equal(e.flags['preserve-fds'], 0, 'the default');
  assert.deepEqual(e.args, ['ctr', 'sh', '-c', 'echo -e x'], "flags after exec's command belong to the command");
  assert.deepEqual(parseFlags(['--', '-x'], [], 'x').args, ['-x']);
  assert.equal(parseFlags(['--help'], createSpec.flags, 'create').help, true);
  assert.match(usageText('rocker-runtime', execSpec), /--env, -e value/);
});

test('bad command lines are usage errors in runc words', () => {
  assert.throws(() => parseFlags(['--bogus'], createSpec.flags, 'create'), usage(/^create: flag provided but not defined: -bogus$/));
  assert.throws(() => parseFlags(['--bundle'], createSpec.flags, 'create'), usage(/flag needs an argument: -bundle/));
  assert.throws(() => parseFlags(['--preserve-fds', 'x'], createSpec.flags, 'create'), usage(/invalid value "x" for flag -preserve-fds/));
  assert.throws(() => checkArgCount(createSpec, []), usage(/"create" requires exactly 1 argument/));
  assert.throws(() => checkArgCount(killSpec, ['a', 'b', 'c']), usage(/requires at most 2/));
  checkArgCount(killSpec, ['a']);
});

test('signals by name, SIG name and number; container ids as runc allows them', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('sigterm'), 15);
  assert.equal(parseSignal('10'), 10);
  assert.equal(parseSignal('0'), 0, 'signal 0 probes for existence, as with runc');
  for (const bad of ['NOPE', '65', '-1']) assert.throws(() => parseSignal(bad), usage(/unknown signal/), bad);
  for (const ok of ['a', 'A.b-c+d_9', '..x']) validateId(ok);
  for (const bad of ['../x', 'a/b', '.', '..', 'a b', '']) assert.throws(() => validateId(bad), /invalid container ID format/, bad);
});

test('rocker-image fast path: only plain pull/bundle/unbundle lines, others go to yargs', () => {
  const call = fastPath(['--root', '/s', '-q', '--insecure-registry=a:5000', '--insecure-registry', 'b', 'bundle', 'img', '/dir']);
  assert.equal(call.verb, 'bundle');
  assert.deepEqual(call.global, { root: '/s', quiet: true, 'insecure-registry': ['a:5000', 'b'] });
  const args = call.args({ command: 'bundle <image> <dir>', builder: (y) => y.option('flat', { default: false }) });
  assert.deepEqual([args.image, args.dir, args.flat], ['img', '/dir', false]);
  for (const argv of [['bundle', '-e', 'A=1', 'img', '/d'], ['pull'], ['pull', 'a', 'b'], ['images'], ['--root', '/a', '--root', '/b', 'pull', 'x'], ['pull', '--help', 'x']]) {
    assert.equal(fastPath(argv), undefined, argv.join(' '));
  }
});

test('run flags: memory sizes, -e forms, -v forms', async () => {
  assert.equal(parseMemory('64m'), 64 * 1024 ** 2);
  assert.equal(parseMemory('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseMemory('7340032'), 7340032);
  for (const bad of ['1m', 'lots', '-5m', '5x']) assert.throws(() => parseMemory(bad), usage(/invalid memory size/), bad);
  process.env.ROCKER_ARGS_TEST = 'from-caller';
  try {
    assert.deepEqual(applyEnvFlags(['A=1', 'B=2'], ['B=3', 'C=', 'ROCKER_ARGS_TEST', 'UNSET_ROCKER_VAR']),
      ['A=1', 'B=3', 'C=', 'ROCKER_ARGS_TEST=from-caller']);
  } finally {
    delete process.env.ROCKER_ARGS_TEST;
  }
  assert.throws(() => applyEnvFlags([], ['=x']), usage(/invalid environment variable/));
  assert.deepEqual(await volumeMount('/tmp:/data/../mnt:ro'), { destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] });
  for (const [flag, re] of [['/tmp', /expected HOST:CONTAINER/], ['/tmp:rel', /must be absolute/], ['/tmp:/x:rx', /mode must be ro or rw/], ['/no/such/dir:/x', /does not exist/]]) {
    await assert.rejects(volumeMount(flag), usage(re), flag);
  }
});
