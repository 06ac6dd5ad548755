// Mount destinations are resolved inside the rootfs: a bundle whose rootfs/proc is a
// symlink to /, whose mount destination is a symlink to a host path (absolute or
// climbing with ../), or whose destination is swapped for such a symlink while the
// container starts, never mounts over or writes into the host.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostMounts, makeBundle, runOnce, runtimes } from './lib.mjs';

let hostTarget;
before(() => {
  hostTarget = mkdtempSync(join(tmpdir(), 'hardening-host-target-'));
  writeFileSync(join(hostTarget, 'HOST-MARKER'), 'host');
});
after(() => rmSync(hostTarget, { recursive: true, force: true }));

const mountsAt = (path) => hostMounts().filter((m) => m.split(' ')[0] === path);

function assertHostUntouched(before) {
  assert.deepEqual(readdirSync(hostTarget), ['HOST-MARKER']);
  assert.deepEqual(mountsAt(hostTarget), []);
  assert.deepEqual(mountsAt('/'), before.root);
  assert.deepEqual(mountsAt('/proc'), before.proc);
}

const snapshot = () => ({ root: mountsAt('/'), proc: mountsAt('/proc') });

for (const rt of runtimes()) {
  describe(`symlinked mount destinations (${rt.name})`, () => {

    test('rootfs/proc -> / does not mount procfs over the host root', () => {
      const b = makeBundle({ args: ['sh', '-c', 'ls /proc/self/ >/dev/null && echo proc-ok; touch /from-container'] }, (rootfs) => {
        rmSync(join(rootfs, 'proc'), { recursive: true });
        symlinkSync('/', join(rootfs, 'proc'));
      });
      const before = snapshot();
      try {
        const r = runOnce(rt, b);
        assertHostUntouched(before);
        assert.throws(() => readdirSync('/from-container'), { code: 'ENOENT' });
        if (r.status === 0) assert.equal(r.stdout, 'proc-ok\n');
        else assert.match(r.stderr, /proc/);
      } finally {
        b.remove();
        rmSync('/from-container', { force: true });
      }
    });

    for (const [kind, link] of [['absolute', () => hostTarget], ['climbing', () => `../../../../../../../..${hostTarget}`]]) {
      for (const type of ['tmpfs', 'bind']) {
        test(`a ${type} mount on a destination that is a symlink (${kind}) to a host dir stays in the root`, () => {
          const source = mkdtempSync(join(tmpdir(), 'hardening-bind-src-'));
          const mount = type === 'tmpfs'
            ? { destination: '/mnt/dst', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] }
            : { destination: '/mnt/dst', type: 'bind', source, options: ['rbind', 'rw'] };
          const b = makeBundle({ args: ['sh', '-c', 'touch /mnt/dst/from-container && echo wrote'], mounts: [mount] }, (rootfs) => {
            mkdirSync(join(rootfs, 'mnt'));
            symlinkSync(link(), join(rootfs, 'mnt/dst'));
          });
          const before = snapshot();
          try {
            const r = runOnce(rt, b);
            assertHostUntouched(before);
            if (r.status === 0) assert.equal(r.stdout, 'wrote\n');
            else assert.ok(r.stderr.trim().length > 0, 'a refusal says why');
          } finally {
            b.remove();
            rmSync(source, { recursive: true, force: true });
          }
        });
      }
    }

    test('a destination swapped for a symlink to the host while containers start stays in the root', async () => {
      const b = makeBundle({
        args: ['sh', '-c', 'touch /race/dst/from-container'],
        mounts: [{ destination: '/race/dst', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] }],
      }, (rootfs) => mkdirSync(join(rootfs, 'race/dst'), { recursive: true }));
      // The attacker flips rootfs/race between a real directory and a link to the host
      // until the stop file appears. It is stopped that way, not killed: the shell forks
      // each mkdir/mv, and a child outliving a killed shell would refill the rootfs while
      // b.remove() empties it (ENOTEMPTY).
      const stop = join(b.dir, 'stop-swapper');
      const swapper = spawn('/bin/busybox', ['sh', '-c',
        `cd ${b.rootfs}; until [ -e ${stop} ]; do mkdir -p race.d/dst; mv -T race.d race; ln -sfn ${hostTarget} race.l; mv -T race.l race 2>/dev/null || rm -rf race; done`],
      { stdio: 'ignore' });
      const swapperExit = new Promise((resolve) => swapper.on('exit', resolve));
      const before = snapshot();
      try {
        for (let i = 0; i < 8; i++) {
          const r = runOnce(rt, b);
          assertHostUntouched(before);
          if (r.status !== 0) assert.ok(r.stderr.trim().length > 0, 'a refusal says why');
        }
      } finally {
        writeFileSync(stop, '');
        await swapperExit;
        b.remove();
      }
    });
  });
}
