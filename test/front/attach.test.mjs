// rocker attach, start -a/-i and the detach keys, through the monitor's attach
// socket; terminals under a real pty (script(1)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueName, suiteFront } from './helpers.mjs';

const f = suiteFront();

const state = async (ref) => JSON.parse(await f.ok('inspect', ref))[0].state;
const CTRL_P_Q = '\x10\x11';
// Echoes each line it reads until "bye N", then exits N.
const ECHO = 'while read line; do case "$line" in bye*) exit ${line#bye };; esac; echo "got $line"; done; exit 9';

/** Polls `check` until it is true (the machine is shared and slow: no fixed sleeps as assertions). */
async function until(what, check, ms = 30000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

/** `rocker attach ARGS` with pipes: its output so far in `out` and `err`, `exited` its exit code. */
function attach(...args) {
  const a = { child: f.spawn('attach', ...args), out: '', err: '' };
  a.child.stdout.on('data', (d) => (a.out += d));
  a.child.stderr.on('data', (d) => (a.err += d));
  a.exited = new Promise((resolve) => a.child.on('exit', resolve));
  return a;
}

test('attach to run -dit: our input and its terminal, ctrl-p ctrl-q detaches and leaves it running, its exit code is ours', { timeout: 120000 }, async () => {
  const name = uniqueName('attach-tty');
  await f.ok('run', '-dit', '--name', name, f.image, `test -t 0 && echo has-a-terminal; ${ECHO}`);
  try {
    await until('its first line', async () => (await f.ok('logs', name)).includes('has-a-terminal'));
    const first = f.pty('attach', name);
    first.write('one\r');
    await first.waitFor('got one');
    first.write(CTRL_P_Q);
    const detached = await first.exited;
    assert.equal(detached.code, 0, detached.text);
    assert.equal((await state(name)).state, 'running', 'detaching leaves the container running');

    // Custom keys; a broken sequence's bytes reach the container.
    const second = f.pty('attach', '--detach-keys', 'ctrl-x,y', name);
    second.write('two\r');
    await second.waitFor('got two');
    second.write('\x18z\r');
    // The container's terminal echoes the ctrl-x it got as ^X.
    await second.waitFor('^Xz');
    second.write('bye 4\r');
    const ended = await second.exited;
    assert.equal(ended.code, 4, ended.text);
    assert.equal((await state(name)).exit.exitCode, 4);
    assert.match(await f.ok('logs', name), /got one[^]*got two/);
  } finally {
    await f.rocker('rm', '-f', name);
  }
});

test('run -it: ctrl-p ctrl-q detaches; attach again and exit', { timeout: 120000 }, async () => {
  const name = uniqueName('run-detach');
  const run = f.pty('run', '-it', '--name', name, f.image, ECHO);
  try {
    run.write('hi\r');
    await run.waitFor('got hi');
    run.write(CTRL_P_Q);
    assert.equal((await run.exited).code, 0);
    assert.equal((await state(name)).state, 'running');
    const again = f.pty('attach', name);
    again.write('back\r');
    await again.waitFor('got back');
    again.write('bye 6\r');
    assert.equal((await again.exited).code, 6);
  } finally {
    run.child.kill();
    await f.rocker('rm', '-f', name);
  }
});

test('attach without a terminal: stdout and stderr apart, from now on; our stdin is its stdin; its exit code is ours', { timeout: 120000 }, async () => {
  const name = uniqueName('attach-pipe');
  await f.ok('run', '-d', '-i', '--name', name, f.image, `echo before; ${ECHO.replace('echo "got $line"', 'echo "got $line"; echo "err $line" >&2')}`);
  try {
    await until('its first line', async () => (await f.ok('logs', name)).includes('before'));
    const a = attach(name);
    // attach has connected once its first line comes back.
    for (let i = 0; !a.out.includes('got a') && i < 300; i++) {
      if (i % 20 === 0) a.child.stdin.write('a\n');
      await sleep(100);
    }
    a.child.stdin.write('bye 5\n');
    assert.equal(await a.exited, 5, a.err);
    assert.match(a.out, /^(got a\n)+$/, 'only output from after attaching, stdout apart');
    assert.match(a.err, /^(err a\n)+$/);
  } finally {
    await f.rocker('rm', '-f', name);
  }
});

test('attach --no-stdin: output only; a stopped container is refused with a clear error', { timeout: 120000 }, async () => {
  const name = uniqueName('attach-nostdin');
  await f.ok('run', '-d', '--name', name, f.image, 'trap "echo bye; exit 3" TERM; while true; do echo tick; sleep 0.2; done');
  try {
    const a = attach('--no-stdin', name);
    await until('attach to show a tick', () => a.out.includes('tick\n'));
    await f.ok('kill', '-s', 'TERM', name);
    assert.equal(await a.exited, 3);
    assert.match(a.out, /^(tick\n)+bye\n$/);
    const refused = await f.rocker('attach', name);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^rocker: cannot attach to container .*: it is not running \(start it first\)\n$/);
  } finally {
    await f.rocker('rm', '-f', name);
  }
});

test('start -a: this run\'s output and exit code; start -ai under a pty: a terminal and our input again', { timeout: 120000 }, async () => {
  const name = uniqueName('start-a');
  await f.ok('run', '-d', '--name', name, f.image, 'n=$(cat /tmp/n 2>/dev/null || echo 0); echo "run $n"; echo $((n + 1)) > /tmp/n; echo warn >&2; exit 2');
  try {
    assert.equal((await f.ok('wait', name)).trim(), '2');
    const r = await f.rocker('start', '-a', name);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, 'run 1\n', 'only the new run\'s output');
    assert.equal(r.stderr, 'warn\n');
    assert.equal((await f.rocker('start', '-a', name, name)).code, 1, 'one container at a time');
  } finally {
    await f.rocker('rm', '-f', name);
  }

  const tty = uniqueName('start-ai');
  const run = f.pty('run', '-it', '--name', tty, f.image, ECHO);
  run.write('bye 3\r');
  assert.equal((await run.exited).code, 3);
  try {
    const again = f.pty('start', '-ai', tty);
    again.write('again\r');
    await again.waitFor('got again');
    again.write('bye 7\r');
    assert.equal((await again.exited).code, 7);
    // A start -ai detached from, then attached to.
    const third = f.pty('start', '-ai', tty);
    third.write('three\r');
    await third.waitFor('got three');
    third.write(CTRL_P_Q);
    assert.equal((await third.exited).code, 0);
    assert.equal((await state(tty)).state, 'running');
  } finally {
    await f.rocker('rm', '-f', tty);
  }
});

// Prints its terminal's size for each "size" line, until "bye N".
const SIZES = 'while read line; do case "$line" in size) stty size;; bye*) exit ${line#bye };; esac; done';

/** Asks `s`'s container for its terminal size until it says `want` ("ROWS COLS"): a resize lands asynchronously. */
async function seesSize(s, want) {
  for (const end = Date.now() + 30000; Date.now() < end; ) {
    s.write('size\r');
    if (await Promise.race([s.waitFor(want).then(() => true, () => false), sleep(1000).then(() => false)])) return;
  }
  assert.fail(`the container's terminal never became ${want}`);
}

/** `s`'s output comes to hold `want` within 30 s (else a failure naming it, not the test's timeout). */
async function says(s, want) {
  const timer = new AbortController();
  const late = sleep(30000, undefined, { signal: timer.signal }).then(() => assert.fail(`no "${want}" within 30 s`));
  try {
    await Promise.race([s.waitFor(want), late]);
  } finally {
    timer.abort();
  }
}

test('terminal size: run -it, attach, start -ai and exec -it give the container ours at once and on every change', { timeout: 180000 }, async () => {
  const name = uniqueName('resize');
  // Its first words are its size: nothing has been typed, so it is the one it started with.
  const run = f.pty({ rows: 40, cols: 100 }, 'run', '-it', '--name', name, f.image, `echo "at start $(stty size)"; ${SIZES}`);
  try {
    await says(run, 'at start 40 100');
    run.resize(50, 120);
    await seesSize(run, '50 120');
    run.write(CTRL_P_Q);
    assert.equal((await run.exited).code, 0);

    const attached = f.pty({ rows: 30, cols: 90 }, 'attach', name);
    await seesSize(attached, '30 90');
    attached.resize(35, 95);
    await seesSize(attached, '35 95');
    attached.write('bye 5\r');
    assert.equal((await attached.exited).code, 5);

    const started = f.pty({ rows: 45, cols: 110 }, 'start', '-ai', name);
    await says(started, 'at start 45 110');
    started.resize(20, 60);
    await seesSize(started, '20 60');

    // exec -t: the runtime's nsexec relays the terminal and follows our SIGWINCH itself.
    const exec = f.pty({ rows: 33, cols: 77 }, 'exec', '-it', name, 'sh', '-c', `echo "at start $(stty size)"; ${SIZES}`);
    await says(exec, 'at start 33 77');
    exec.resize(44, 88);
    await seesSize(exec, '44 88');
    exec.write('bye 0\r');
    assert.equal((await exec.exited).code, 0);

    started.write('bye 7\r');
    assert.equal((await started.exited).code, 7);
  } finally {
    run.child.kill();
    await f.rocker('rm', '-f', name);
  }
});
