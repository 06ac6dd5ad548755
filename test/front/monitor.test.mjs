// rocker-monitor on its own: any `create`-like command that leaves a process
// and writes its pid will do, so a shell stands in for the runtime here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const MONITOR = fileURLToPath(new URL('../../dist/rocker-monitor', import.meta.url));

/** Runs the monitor over `script` (the stand-in init); resolves the sync line once the exit file is there. */
async function monitor(dir, script, logMax, extra = []) {
  const p = { log: join(dir, 'log'), pid: join(dir, 'pid'), exit: join(dir, 'exit.json') };
  // The stand-in init starts its script once the stand-in create has exited (as a real init waits
  // for `start`): an init that ended while the create shell lived could be reaped by that shell.
  const create = ['/bin/sh', '-c', `/bin/sh -c 'sleep 0.2; ${script}' & echo $! > ${p.pid}`];
  const child = spawn(MONITOR, [...extra, '--log', p.log, '--log-max', String(logMax), '--pid-file', p.pid, '--exit-file', p.exit, '--sync-fd', '3', '--', ...create], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  let sync = '';
  child.stdio[3].on('data', (d) => (sync += d));
  await new Promise((resolve) => child.stdio[3].on('end', resolve));
  for (let i = 0; i < 200 && !existsSync(p.exit); i++) await new Promise((r) => setTimeout(r, 50));
  return { sync, ...p };
}

const RECORD = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) ([FP]) (.*)$/;

test('CRI records per stream, P pieces of a long line, rotation at the size limit, the exit code', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-monitor-'));
  try {
    // 40 short lines, one of 20000 bytes (two records), one to stderr, then exit 4.
    const script = 'i=0; while [ $i -lt 40 ]; do echo line$i; i=$((i+1)); done; head -c 20000 /dev/zero | tr "\\\\0" x; echo; echo oops >&2; exit 4';
    const r = await monitor(dir, script, 4096);
    assert.match(r.sync, /^created \d+ \d+\n$/);
    const exit = JSON.parse(readFileSync(r.exit, 'utf8'));
    assert.equal(exit.exitCode, 4);
    assert.ok(existsSync(`${r.log}.1`), 'the log was rotated');
    const records = [readFileSync(`${r.log}.1`, 'utf8'), readFileSync(r.log, 'utf8')].join('').split('\n').filter(Boolean).map((l) => RECORD.exec(l));
    assert.ok(records.every(Boolean));
    assert.ok(readFileSync(r.log, 'utf8').length <= 4096 + 20100, 'the current file began anew');
    const long = records.filter((m) => m[3].startsWith('xxx'));
    assert.deepEqual(long.map((m) => [m[2], m[3].length]), [['P', 16384], ['F', 20000 - 16384]]);
    assert.deepEqual(records.filter((m) => m[1] === 'stderr').map((m) => m[3]), ['oops']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed create is reported on the sync fd and leaves no exit file', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-monitor-'));
  try {
    const p = { log: join(dir, 'log'), pid: join(dir, 'pid'), exit: join(dir, 'exit.json') };
    const hook = join(dir, 'hook');
    const child = spawn(MONITOR, ['--on-exit', '/bin/sh', '--on-exit', '-c', '--on-exit', `touch ${hook}`, '--log', p.log, '--pid-file', p.pid, '--exit-file', p.exit, '--sync-fd', '3', '--', '/bin/sh', '-c', 'exit 9'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    let sync = '';
    child.stdio[3].on('data', (d) => (sync += d));
    await new Promise((resolve) => child.stdio[3].on('end', resolve));
    assert.match(sync, /^failed 9 \d+\n$/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(existsSync(p.exit), false);
    assert.equal(existsSync(hook), false, 'no --on-exit command without a container');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--on-exit runs its command after the exit file is written, with no signal blocked', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-monitor-'));
  try {
    const hook = join(dir, 'hook');
    const words = ['/bin/sh', '-c', `cat ${join(dir, 'exit.json')} > ${hook}.tmp; grep SigBlk /proc/self/status >> ${hook}.tmp; mv ${hook}.tmp ${hook}`];
    const r = await monitor(dir, 'exit 2', 1 << 20, words.flatMap((w) => ['--on-exit', w]));
    assert.match(r.sync, /^created \d+ \d+\n$/);
    for (let i = 0; i < 200 && !existsSync(hook); i++) await new Promise((res) => setTimeout(res, 50));
    const [exit, sigblk] = readFileSync(hook, 'utf8').split('\n');
    assert.equal(JSON.parse(exit).exitCode, 2);
    assert.match(sigblk, /^SigBlk:\s+0+$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--stdin and --attach-socket: a client that ends its input ends the stdin pipe and still gets the output', { timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-monitor-'));
  try {
    const p = { log: join(dir, 'log'), pid: join(dir, 'pid'), exit: join(dir, 'exit.json'), attach: join(dir, 'attach') };
    // A non-interactive shell gives a background job /dev/null as stdin unless told otherwise.
    const create = ['/bin/sh', '-c', `exec 3<&0; /bin/sh -c 'cat; echo after-eof; sleep 0.3; echo later' <&3 & echo $! > ${p.pid}`];
    const child = spawn(MONITOR, ['--stdin', '--attach-socket', p.attach, '--log', p.log, '--pid-file', p.pid, '--exit-file', p.exit, '--sync-fd', '3', '--', ...create], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    let sync = '';
    child.stdio[3].on('data', (d) => (sync += d));
    await new Promise((resolve) => child.stdio[3].on('end', resolve));
    assert.match(sync, /^created \d+ \d+\n$/);
    const client = connect(p.attach);
    let got = '';
    client.on('data', (d) => (got += d));
    const closed = new Promise((resolve) => client.on('close', resolve));
    await new Promise((resolve) => client.on('connect', resolve));
    client.end('typed\n');
    await closed;
    assert.equal(got, 'typed\nafter-eof\nlater\n');
    assert.equal(JSON.parse(readFileSync(p.exit, 'utf8')).exitCode, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
