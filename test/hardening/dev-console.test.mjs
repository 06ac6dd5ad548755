// /dev/console is set up safely: it is the container's own pty (devpts major 136), and a
// rootfs whose /dev/console is a symlink to a host file gets the pty inside the root,
// leaving the host file untouched.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildConsoleReceiver } from '../nsexec/harness.mjs';
import { config, hostMounts, makeBundle, runtimes, uniqueId } from './lib.mjs';

let work;
let receiver;
let hostFile;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'hardening-console-'));
  receiver = buildConsoleReceiver(work);
  hostFile = join(work, 'host-console-target');
  writeFileSync(hostFile, 'host file\n');
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the bundle detached with a terminal (runc allows a console socket only then);
 *  resolves to { status, stderr, output } where output is everything the container wrote
 *  to its terminal before it closed. */
async function runWithTerminal(rt, bundle) {
  const socket = join(work, `${uniqueId('sock')}.sock`);
  const rx = spawn(receiver, [socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rx.stdout.setEncoding('utf8');
  const closed = new Promise((resolve) => rx.on('close', resolve));
  await new Promise((resolve) => rx.stdout.on('data', (d) => { out += d; if (out.startsWith('ready\n')) resolve(); }));
  const id = uniqueId('console');
  try {
    const r = rt.cmd(['run', '-d', '--console-socket', socket, '--bundle', bundle.dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) rx.kill();
    await closed;
    // The receiver prints "ready" and "fds=N" before what the terminal gave.
    return { status: r.status, stderr: r.stderr, output: out.replace(/^ready\n(fds=\d+\n)?/, '').replace(/\r\n/g, '\n') };
  } finally {
    rt.cmd(['delete', '-f', id]);
  }
}

const probe = ['sh', '-c', 'stat -L -c "%t:%T" /dev/console; tty'];

for (const rt of runtimes()) {
  describe(`/dev/console (${rt.name})`, () => {

    test('/dev/console is the container\'s own pty', async () => {
      const b = makeBundle({ args: probe, terminal: true });
      try {
        const r = await runWithTerminal(rt, b);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.output, /^88:\d+\n\/dev\/(pts\/\d+|console)\n$/); // 0x88 = 136, devpts
      } finally { b.remove(); }
    });

    test('a /dev/console symlink to a host file is not followed out of the root', async () => {
      const b = makeBundle({ args: probe, terminal: true }, (rootfs) => {
        symlinkSync(hostFile, join(rootfs, 'dev/console'));
        // The same path inside the root exists too, so following the link in-root works.
        mkdirSync(join(rootfs, dirname(hostFile)), { recursive: true });
        writeFileSync(join(rootfs, hostFile), 'in-root file\n');
      });
      // No tmpfs on /dev: the rootfs's own /dev, with the planted link, is what the runtime sees.
      const cfg = config({ args: probe, terminal: true });
      cfg.mounts = cfg.mounts.filter((m) => m.destination === '/proc' || m.destination === '/dev/pts');
      b.write(cfg);
      try {
        const r = await runWithTerminal(rt, b);
        assert.equal(readFileSync(hostFile, 'utf8'), 'host file\n');
        assert.deepEqual(hostMounts().filter((m) => m.startsWith(`${hostFile} `)), []);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.output, /^88:\d+\n/);
      } finally { b.remove(); }
    });
  });
}
