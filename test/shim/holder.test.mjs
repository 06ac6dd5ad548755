// rocker-shim-holder on its own (docs/shim.md, "The holder's channel"): a worker written here (a Node
// script speaking the channel on fd 3) and test clients speaking ttrpc framing on the socket.
// The frames' bodies are JSON the stand-in worker acts on; the holder reads no body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const HOLDER = fileURLToPath(new URL('../../dist/rocker-shim-holder', import.meta.url));
const REQUEST = 1;
const RESPONSE = 2;

// The stand-in worker. argv[2]: the test's dir, where it appends its pid to starts.log.
const WORKER = String.raw`
const fs = require('node:fs');
const net = require('node:net');
const { spawn } = require('node:child_process');
const dir = process.argv[2];
fs.appendFileSync(dir + '/starts.log', process.pid + '\n');
const ch = new net.Socket({ fd: 3, readable: true, writable: true });
function send(type, a, body = Buffer.alloc(0)) {
  const h = Buffer.alloc(9);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(a, 1);
  h.writeUInt32BE(body.length, 5);
  ch.write(Buffer.concat([h, body]));
}
function frame(stream, obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const h = Buffer.alloc(10);
  h.writeUInt32BE(body.length, 0);
  h.writeUInt32BE(stream, 4);
  h[8] = 2;
  return Buffer.concat([h, body]);
}
const reply = (conn, stream, obj) => send('F', conn, frame(stream, { pid: process.pid, ...obj }));
let held;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ppidOf = (pid) => { try { return Number(fs.readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1].split(' ')[1]); } catch { return 0; } };
// A process re-parented to the holder: sh starts it in the background and exits.
async function orphan(script) {
  const sh = spawn('/bin/sh', ['-c', '(' + script + ') </dev/null >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  sh.stdout.on('data', (d) => (out += d));
  await new Promise((r) => sh.on('close', r));
  const pid = Number(out.trim());
  while (ppidOf(pid) !== process.ppid) await sleep(20);
  return pid;
}
async function handle(conn, stream, req) {
  switch (req.op) {
    case 'pid': return reply(conn, stream, {});
    case 'hold': held = { conn, stream }; return;
    case 'answer-held': reply(held.conn, held.stream, { held: true }); return reply(conn, stream, {});
    case 'idle': reply(conn, stream, {}); return send('I', 0);
    case 'park': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(stream);
      return send('P', conn, Buffer.concat([b, Buffer.from(req.key)]));
    }
    case 'release': {
      const k = Buffer.from(req.key);
      const l = Buffer.alloc(2);
      l.writeUInt16BE(k.length);
      send('R', 0, Buffer.concat([l, k, Buffer.from(req.payload)]));
      return reply(conn, stream, {});
    }
    case 'crash': process.exit(3);
    case 'quit': reply(conn, stream, {}); return send('Q', 0);
    case 'quit-later': reply(conn, stream, {}); setTimeout(() => send('Q', 0), req.ms); return;
    case 'spawn': {
      const pid = await orphan(req.script);
      if (req.watch) send('W', pid, Buffer.from(req.watch));
      reply(conn, stream, { child: pid });
      if (req.watchAfterReap) {
        while (fs.existsSync('/proc/' + pid)) await sleep(20);
        send('W', pid, Buffer.from(req.watchAfterReap));
      }
      return;
    }
  }
}
let buf = Buffer.alloc(0);
ch.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 9 && buf.length >= 9 + buf.readUInt32BE(5)) {
    const type = String.fromCharCode(buf[0]);
    const a = buf.readUInt32BE(1);
    const body = buf.subarray(9, 9 + buf.readUInt32BE(5));
    buf = buf.subarray(9 + body.length);
    if (type === 'F' && body[8] === 1) handle(a, body.readUInt32BE(4), JSON.parse(body.subarray(10)));
  }
});
ch.on('end', () => process.exit(0));
ch.on('error', () => process.exit(1));
`;

/** A holder in a fresh dir; its process group (it, its workers, their orphans) is killed by stop(). */
async function startHolder() {
  const dir = mkdtempSync(join(tmpdir(), 'rocker-holder-'));
  const worker = join(dir, 'worker.cjs');
  writeFileSync(worker, WORKER);
  const socket = join(dir, 'ttrpc.sock');
  const record = join(dir, 'shim.address');
  writeFileSync(record, `${socket}\n`);
  const child = spawn(HOLDER, ['--socket', socket, '--ready-fd', '3', '--record', record, '--', process.execPath, worker, dir], {
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
  });
  let ready = '';
  child.stdio[3].on('data', (d) => (ready += d));
  await new Promise((resolve) => child.stdio[3].on('end', resolve));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const clients = [];
  return {
    dir, socket, record, ready, child, exited,
    starts: () => (existsSync(join(dir, 'starts.log')) ? readFileSync(join(dir, 'starts.log'), 'utf8').split('\n').filter(Boolean).map(Number) : []),
    async client() {
      const c = await Client.open(socket);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.sock.destroy();
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A ttrpc-framed connection: request() sends a request frame and resolves the frame answering its stream. */
class Client {
  static open(path) {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('error', reject);
      sock.once('connect', () => resolve(new Client(sock)));
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frames = new Map();
    this.waiters = new Map();
    this.closed = new Promise((resolve) => sock.on('close', resolve));
    sock.on('error', () => {});
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 10 && this.buf.length >= 10 + this.buf.readUInt32BE(0)) {
        const n = this.buf.readUInt32BE(0);
        const f = { stream: this.buf.readUInt32BE(4), type: this.buf[8], flags: this.buf[9], body: this.buf.subarray(10, 10 + n) };
        this.buf = this.buf.subarray(10 + n);
        const w = this.waiters.get(f.stream);
        if (w) {
          this.waiters.delete(f.stream);
          w(f);
        } else this.frames.set(f.stream, f);
      }
    });
  }

  send(stream, obj) {
    const body = Buffer.from(JSON.stringify(obj));
    const h = Buffer.alloc(10);
    h.writeUInt32BE(body.length, 0);
    h.writeUInt32BE(stream, 4);
    h[8] = REQUEST;
    this.sock.write(Buffer.concat([h, body]));
  }

  /** The frame answering `stream` (waits for it). */
  answer(stream) {
    const f = this.frames.get(stream);
    if (f) {
      this.frames.delete(stream);
      return Promise.resolve(f);
    }
    return new Promise((resolve) => this.waiters.set(stream, resolve));
  }

  /** Sends and resolves the JSON of the response. */
  async request(stream, obj) {
    this.send(stream, obj);
    const f = await this.answer(stream);
    assert.equal(f.type, RESPONSE);
    return JSON.parse(f.body);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, ms = 20000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** google.rpc.Status{code, message} inside ttrpc.Response (field 1), as the holder hand-encodes it. */
function decodeStatus(body) {
  assert.equal(body[0], 0x0a);
  const status = body.subarray(2, 2 + body[1]);
  assert.equal(status[0], 0x08);
  assert.equal(status[2], 0x12);
  return { code: status[1], message: status.subarray(4, 4 + status[3]).toString() };
}

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

function exitRecord(path) {
  const text = readFileSync(path, 'utf8');
  assert.match(text, /^\{"exitCode":\d+,"exitedAt":"[^"]+"\}\n$/);
  const r = JSON.parse(text);
  assert.match(r.exitedAt, RFC3339_NANO);
  return r;
}

test('ready line; a socket it cannot listen on is reported on the ready fd', { timeout: 30000 }, async () => {
  const h = await startHolder();
  try {
    assert.equal(h.ready, 'ok\n');
    assert.equal(h.starts().length, 0, 'no worker before a request');
  } finally {
    await h.stop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'rocker-holder-'));
  try {
    const bad = join(dir, 'missing', 'ttrpc.sock');
    const child = spawn(HOLDER, ['--socket', bad, '--ready-fd', '3', '--', '/bin/true'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    let said = '';
    child.stdio[3].on('data', (d) => (said += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.equal(said, `listen ${bad}: No such file or directory\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('frames relayed both ways between two connections and one worker; a second idle with a request outstanding is ignored', { timeout: 30000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const b = await h.client();
    const first = (await a.request(1, { op: 'pid' })).pid;
    assert.equal((await b.request(1, { op: 'pid' })).pid, first, 'one worker serves both connections');
    // a's stream 3 stays outstanding; b's idle (its own stream 3) must not end the worker.
    a.send(3, { op: 'hold' });
    assert.equal((await b.request(3, { op: 'idle' })).pid, first);
    assert.equal((await b.request(5, { op: 'answer-held' })).pid, first, 'the worker was not ended');
    assert.deepEqual(await a.request(5, { op: 'pid' }), { pid: first });
    assert.equal((await a.answer(3)).type, RESPONSE);
    assert.deepEqual(h.starts(), [first]);
    // Nothing outstanding now: idle ends it, and the next frame starts another.
    await b.request(7, { op: 'idle' });
    await until('the idle worker to exit', () => !alive(first));
    const second = (await a.request(7, { op: 'pid' })).pid;
    assert.notEqual(second, first);
    assert.deepEqual(h.starts(), [first, second]);
  } finally {
    await h.stop();
  }
});

test('a parked request is answered by a release from the next worker', { timeout: 30000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const b = await h.client();
    a.send(1, { op: 'park', key: 'task1' });
    a.send(3, { op: 'park', key: 'task2' });
    const first = (await b.request(1, { op: 'idle' })).pid;
    await until('the idle worker to exit', () => !alive(first));
    const released = await b.request(3, { op: 'release', key: 'task1', payload: 'exited 0' });
    assert.notEqual(released.pid, first, 'a new worker released it');
    const f = await a.answer(1);
    assert.deepEqual([f.type, f.flags, f.body.toString()], [RESPONSE, 0, 'exited 0']);
    await b.request(5, { op: 'release', key: 'task1', payload: 'again' });
    await b.request(7, { op: 'release', key: 'task2', payload: 'two' });
    assert.equal((await a.answer(3)).body.toString(), 'two');
    assert.equal(a.frames.size, 0, 'a released park is answered once');
  } finally {
    await h.stop();
  }
});

test('a worker that dies: Unavailable for its outstanding requests, a new worker for the next frame', { timeout: 30000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const b = await h.client();
    const first = (await a.request(1, { op: 'pid' })).pid;
    a.send(3, { op: 'hold' });
    b.send(1, { op: 'crash' });
    for (const f of [await a.answer(3), await b.answer(1)]) {
      assert.equal(f.type, RESPONSE);
      assert.deepEqual(decodeStatus(f.body), { code: 14, message: 'rocker shim worker exited (status 3)' });
    }
    const next = (await b.request(3, { op: 'pid' })).pid;
    assert.notEqual(next, first);
    // A frame over ttrpc's 4 MiB ends that connection only.
    const huge = Buffer.alloc(10);
    huge.writeUInt32BE(5 << 20, 0);
    b.sock.write(huge);
    await b.closed;
    assert.equal((await a.request(5, { op: 'pid' })).pid, next);
  } finally {
    await h.stop();
  }
});

test('watched children: exit records for 7 and SIGKILL, a worker woken by the exit, a watch after the reap', { timeout: 60000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const flag = join(h.dir, 'go');
    const seven = join(h.dir, 'seven.json');
    const killed = join(h.dir, 'killed.json');
    const late = join(h.dir, 'late.json');
    const waitFlag = `while [ ! -e ${flag} ]; do sleep 0.05; done`;
    await a.request(1, { op: 'spawn', script: `${waitFlag}; exit 7`, watch: seven });
    const { child: sleeper } = await a.request(3, { op: 'spawn', script: 'exec sleep 1000', watch: killed });
    const { pid: first } = await a.request(5, { op: 'idle' });
    await until('the idle worker to exit', () => !alive(first));
    writeFileSync(flag, '');
    await until('the exit record of 7', () => existsSync(seven));
    assert.equal(exitRecord(seven).exitCode, 7);
    await until('a worker woken by the exit', () => h.starts().length === 2);
    process.kill(sleeper, 'SIGKILL');
    await until('the exit record of the SIGKILL', () => existsSync(killed));
    assert.equal(exitRecord(killed).exitCode, 137);
    // Reaped before its watch came (an orphan): the record is written when the watch comes.
    rmSync(flag);
    const { child } = await a.request(7, { op: 'spawn', script: `${waitFlag}; exit 9`, watchAfterReap: late });
    writeFileSync(flag, '');
    await until('the record of a watch after the reap', () => existsSync(late));
    assert.equal(exitRecord(late).exitCode, 9);
    assert.ok(!alive(child));
  } finally {
    await h.stop();
  }
});

test('a worker that dies after an exit it may not have handled is replaced at once', { timeout: 30000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const exit = join(h.dir, 'exit.json');
    const { child } = await a.request(1, { op: 'spawn', script: 'exec sleep 1000', watch: exit });
    process.kill(child, 'SIGKILL');
    await until('the exit record', () => existsSync(exit));
    a.send(3, { op: 'crash' });
    assert.equal(decodeStatus((await a.answer(3)).body).code, 14);
    await until('a new worker with no frame sent', () => h.starts().length === 2);
  } finally {
    await h.stop();
  }
});

test('hostile clients: garbage, cut frames and connections closed with a request outstanding', { timeout: 30000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const first = (await a.request(1, { op: 'pid' })).pid;
    const junk = [];
    for (let i = 0; i < 20; i++) {
      const c = await h.client();
      const header = Buffer.alloc(10);
      header.writeUInt32BE((i * 199999) % (4 << 20), 0);
      // A header promising a body that never comes, a cut header, or a request left unanswered.
      if (i % 3 === 0) c.sock.write(Buffer.concat([header, Buffer.alloc(i * 100, 0xff)]));
      else if (i % 3 === 1) c.sock.write(header.subarray(0, 7));
      else c.send(1, { op: 'hold' });
      junk.push(c);
    }
    assert.equal((await a.request(3, { op: 'pid' })).pid, first);
    for (const c of junk) {
      c.sock.destroy();
      await c.closed;
    }
    // The held requests went with their connections: nothing outstanding, so idle ends the worker.
    await a.request(5, { op: 'idle' });
    await until('the idle worker to exit', () => !alive(first));
    assert.notEqual((await a.request(7, { op: 'pid' })).pid, first);
    assert.ok(alive(h.child.pid));
  } finally {
    await h.stop();
  }
});

test('quit: ignored right after activity, honoured after 10 s without a connection or frame', { timeout: 60000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    await a.request(1, { op: 'quit' });
    const b = await h.client();
    await b.request(1, { op: 'pid' });
    assert.ok(existsSync(h.socket) && existsSync(h.record));
    await b.request(3, { op: 'quit-later', ms: 10500 });
    assert.deepEqual(await h.exited, { code: 0, signal: null });
    assert.ok(!existsSync(h.socket), 'the socket is removed');
    assert.ok(!existsSync(h.record), 'the record is removed');
  } finally {
    await h.stop();
  }
});

test('quit leaves the namespace record alone once another holder has written its own there', { timeout: 60000 }, async () => {
  const h = await startHolder();
  try {
    const a = await h.client();
    const other = `${h.socket}-other\n/run/other-containerd.sock\n`;
    writeFileSync(h.record, other);
    await a.request(1, { op: 'quit-later', ms: 10500 });
    assert.deepEqual(await h.exited, { code: 0, signal: null });
    assert.ok(!existsSync(h.socket), 'the socket is removed');
    assert.equal(readFileSync(h.record, 'utf8'), other);
  } finally {
    await h.stop();
  }
});
