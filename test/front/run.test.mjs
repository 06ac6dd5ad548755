// rocker run/ps/logs/stop/rm driven as the origin project's users did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainHash, freePort, freeSubnet, keepIpForward } from '../network/helpers.mjs';
import { uniqueName, suiteFront } from './helpers.mjs';

const f = suiteFront();

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

/** Resolves once `child`'s stdout holds `text`. */
function waitOutput(child, text) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes(text)) resolve(out);
    });
    child.on('exit', () => reject(new Error(`exited before "${text}"; got ${JSON.stringify(out)}`)));
  });
}

test('run -d --name -e -v: ps lists it, logs -f follows new lines, stop uses StopSignal, rm -f leaves nothing', { timeout: 120000 }, async () => {
  const name = uniqueName('web');
  const hostDir = join(f.dir, `vol-${name}`);
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'in.txt'), 'from the host\n');
  const port = await freePort();
  // The image's StopSignal is SIGINT: the trap proves stop sent it (SIGTERM would be ignored by pid 1).
  const script = 'cat /data/in.txt; echo "k=$K"; trap "echo got INT; exit 7" INT; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done';
  const id = (await f.ok('run', '-d', '--name', name, '-e', 'K=V1', '-v', `${hostDir}:/data`, '-p', `${port}:80`, f.image, script)).trim();
  assert.match(id, /^[0-9a-f]{64}$/);

  const ps = (await f.ok('ps', '--format', 'json')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const row = ps.find((r) => r.Names === name);
  assert.ok(row, JSON.stringify(ps));
  assert.equal(row.Id, id);
  assert.equal(row.State, 'running');
  assert.match(row.Status, /^Up/);
  assert.equal(row.Ports, `0.0.0.0:${port}->80/tcp`);
  assert.equal((await f.ok('ps', '-q')).split('\n').includes(id.slice(0, 12)), true);

  // By name, by full id and by prefix.
  assert.equal((await inspect(id.slice(0, 10))).id, id);
  const info = await inspect(name);
  assert.equal(info.id, id);
  // The monitor outlives `rocker run`, reaps the init, and is not in the container's cgroup.
  const monitorCgroups = readFileSync(`/proc/${info.monitorPid}/cgroup`, 'utf8');
  const initCgroups = readFileSync(`/proc/${info.initPid}/cgroup`, 'utf8');
  assert.notEqual(monitorCgroups, initCgroups);
  assert.match(readFileSync(`/proc/${info.initPid}/status`, 'utf8'), new RegExp(`PPid:\\s+${info.monitorPid}\\n`));
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${info.monitorPid}/status`, 'utf8'))[1]);
  assert.ok(rss < 1024, `monitor RSS ${rss} kB`);

  // logs -f: what was written already, then lines written after it started.
  const follower = f.spawn('logs', '-f', name);
  const seen = await waitOutput(follower, 'tick 3');
  assert.match(seen, /^from the host\nk=V1\ntick 1\n/);
  const last = Number(/tick (\d+)\n$/.exec(await f.ok('logs', '--tail', '1', name))[1]);
  await waitOutput(follower, `tick ${last + 2}`);
  const stamped = await f.ok('logs', '--timestamps', '--tail', '2', name);
  assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tick \d+\n\S+Z tick \d+\n$/);

  // stop: SIGINT reaches the trap well within the grace period; logs -f ends with the container.
  const followerDone = new Promise((resolve) => follower.on('exit', resolve));
  await f.ok('stop', '-t', '60', name);
  assert.equal(await followerDone, 0);
  assert.match(await f.ok('logs', '--tail', '1', name), /^got INT\n$/);
  assert.equal((await f.ok('wait', name)).trim(), '7');
  const exited = JSON.parse((await f.ok('ps', '-a', '--format', 'json')).split('\n').find((l) => l.includes(name)));
  assert.match(exited.Status, /^Exited \(7\) /);
  assert.equal((await f.ok('ps', '-q')).includes(id.slice(0, 12)), false);

  // The name is taken while the container exists.
  const again = await f.rocker('run', '-d', '--name', name, f.image, 'true');
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already in use/);

  await f.ok('rm', '-f', name);
  await f.assertGone(id, info);
});

test('stop waits the grace period, then kills; rm -f of a running container removes everything', { timeout: 120000 }, async () => {
  const name = uniqueName('stubborn');
  const id = (await f.ok('run', '-d', '--name', name, f.image, 'trap "" INT TERM; echo ready; while true; do sleep 0.2; done')).trim();
  const info = await inspect(name);
  const t0 = Date.now();
  await f.ok('stop', '-t', '2', name);
  const took = Date.now() - t0;
  assert.ok(took >= 2000, `stop took ${took} ms`);
  assert.equal((await f.ok('wait', id)).trim(), '137');

  const name2 = uniqueName('running');
  const id2 = (await f.ok('run', '-d', '--name', name2, f.image, 'while true; do sleep 1; done')).trim();
  const info2 = await inspect(id2);
  const refused = await f.rocker('rm', name2);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /is running/);
  await f.ok('rm', '-f', name2, name);
  await f.assertGone(id2, info2);
  await f.assertGone(id, info);
});

test('run -d --network -p: the published port answers on 127.0.0.1; rm -f leaves no rule, lease or netns', { timeout: 120000 }, async () => {
  const restoreForward = keepIpForward();
  const net = uniqueName('net');
  await f.ok('network', 'create', '--subnet', freeSubnet().subnet, net);
  try {
    const port = await freePort();
    const name = uniqueName('httpd');
    const id = (await f.ok('run', '-d', '--name', name, '--network', net, '-p', `127.0.0.1:${port}:80`, '-u', 'root', f.image,
      'mkdir -p /www && echo hello-front > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www')).trim();
    const info = await inspect(id);
    let body;
    for (let i = 0; i < 50 && body === undefined; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => undefined);
      if (body === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, 'hello-front\n');
    await f.ok('rm', '-f', name);
    await f.assertGone(id, info);
    assert.equal(execFileSync('iptables-save', { encoding: 'utf8' }).includes(chainHash(net, id)), false, 'a CNI chain is left');
    assert.deepEqual(readdirSync(join(f.dir, 'net-state'), { recursive: true }).filter((p) => String(p).includes(id)), []);
  } finally {
    await f.rocker('network', 'rm', net);
    restoreForward();
  }
});

test('a killed monitor or a crash right after mkdir leaves containers that ps -a, logs and rm -f handle', { timeout: 120000 }, async () => {
  const name = uniqueName('orphan');
  const id = (await f.ok('run', '-d', '--name', name, f.image, 'echo before; while true; do sleep 1; done')).trim();
  const info = await inspect(name);
  for (let i = 0; i < 50 && !(await f.ok('logs', name)).includes('before'); i++) await new Promise((r) => setTimeout(r, 100));
  process.kill(info.monitorPid, 'SIGKILL');
  for (let i = 0; i < 50 && existsSync(`/proc/${info.monitorPid}`); i++) await new Promise((r) => setTimeout(r, 50));
  const row = JSON.parse((await f.ok('ps', '-a', '--format', 'json')).split('\n').find((l) => l.includes(name)));
  assert.equal(row.Status, 'Dead');
  assert.equal(await f.ok('logs', '-f', name), 'before\n');

  // A crash between the directory and its record: no name, no record.
  const halfId = 'f'.repeat(8) + id.slice(8);
  mkdirSync(join(f.root, 'containers', halfId));
  assert.ok((await f.ok('ps', '-a', '-q')).split('\n').includes(halfId.slice(0, 12)));
  await f.ok('rm', '-f', name, halfId.slice(0, 16));
  await f.assertGone(id, info);
  assert.equal(existsSync(join(f.root, 'containers', halfId)), false);
});

test('--runtime runc: the same front drives runc', { timeout: 60000 }, async () => {
  const r = await f.rocker('--runtime', 'runc', 'run', '--rm', f.image, 'echo via runc; exit 5');
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, 'via runc\n');
});

test('exec: -e, -u by name, -w, the exit code; -it under a real pty (script)', { timeout: 120000 }, async () => {
  const name = uniqueName('exec');
  const id = (await f.ok('run', '-d', '--name', name, f.image, 'while true; do sleep 1; done')).trim();
  try {
    const r = await f.rocker('exec', '-e', 'X=1', '-u', 'web', '-w', '/tmp', name, 'sh', '-c', 'echo "$X $(id -u):$(id -g) $(pwd)"; exit 6');
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stdout, '1 1000:1001 /tmp\n');
    // -it: `script` gives rocker a real terminal; the process sees one and reads our input.
    const session = f.pty('exec', '-it', id.slice(0, 12), 'sh', '-c', 'test -t 0 && test -t 1 && read line && echo "got $line"; exit 2');
    session.write('hello\n');
    const out = await session.exited;
    assert.match(out.text, /got hello/);
    assert.equal(out.code, 2);
  } finally {
    await f.ok('rm', '-f', name);
  }
});

/** Runs rocker under script(1) (a real pty), feeding `input`; resolves { code, text }. */
function underPty(args, input) {
  const session = f.pty(...args);
  if (input) session.write(input);
  return session.exited;
}

test('run --rm -it: a terminal inside, our input reaches it, its exit code is ours', { timeout: 120000 }, async () => {
  const r = await underPty(['run', '--rm', '-it', f.image, 'test -t 0 && test -t 1 && read line && echo "got $line"; exit 3'], 'typed\n');
  assert.match(r.text, /got typed/);
  assert.equal(r.code, 3);
  const quick = await underPty(['run', '--rm', '-it', f.image, 'exit 3']);
  assert.equal(quick.code, 3);
  assert.deepEqual(readdirSync(join(f.root, 'containers')).filter((e) => !e.startsWith('.')), []);
});

test('run -i without -t: stdin is a pipe that ends when ours does', { timeout: 60000 }, async () => {
  const out = await new Promise((resolve) => {
    const child = f.spawn('run', '--rm', '-i', f.image, 'cat; echo done; exit 4');
    child.stdin.end();
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => resolve({ code, text }));
  });
  assert.equal(out.text, 'done\n');
  assert.equal(out.code, 4);
});

test('run --entrypoint, --env-file, -e over it, --read-only, -w; an unknown name is named in the error', { timeout: 60000 }, async () => {
  const envFile = join(f.dir, `env-${uniqueName('file')}`);
  writeFileSync(envFile, '# comment\nA=from-file\n\nB=file\n');
  const r = await f.rocker('run', '--rm', '--entrypoint', '/bin/sh', '--env-file', envFile, '-e', 'B=flag', '--read-only', '-w', '/srv',
    f.image, '-c', 'echo "$A $B $(pwd)"; touch /x 2>/dev/null && echo writable || echo read-only');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from-file flag /srv\nread-only\n');
  assert.equal((await f.rocker('logs', 'no-such-container')).code, 1);
  assert.match((await f.rocker('logs', 'no-such-container')).stderr, /no such container: no-such-container/);
});
