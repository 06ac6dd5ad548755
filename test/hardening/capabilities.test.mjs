// Capabilities and noNewPrivileges: the container holds exactly the configured sets,
// nothing inheritable or ambient leaks in, and a setuid-root binary gains nothing when
// noNewPrivileges is set (while it does without it, which shows the probe works).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBundle, runDetached, runOnce, runtimes, uniqueId } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Bits of linux/capability.h.
const CAP = { CAP_CHOWN: 0, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_NET_BIND_SERVICE: 10, CAP_SYS_ADMIN: 21, CAP_AUDIT_WRITE: 29 };
const mask = (names) => names.reduce((m, n) => m | (1n << BigInt(CAP[n])), 0n);

function capsOf(status) {
  const get = (k) => BigInt(`0x${status.match(new RegExp(`^${k}:\\s*([0-9a-f]+)$`, 'm'))[1]}`);
  return { inh: get('CapInh'), prm: get('CapPrm'), eff: get('CapEff'), bnd: get('CapBnd'), amb: get('CapAmb'),
    nnp: Number(status.match(/^NoNewPrivs:\s*(\d)/m)[1]) };
}

let probeDir;
let probe;
before(() => {
  probeDir = mkdtempSync(join(tmpdir(), 'hardening-caps-'));
  probe = join(probeDir, 'setuid-probe');
  const cc = spawnSync('cc', ['-static', '-O1', '-o', probe, join(here, 'setuid-probe.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
});
after(() => rmSync(probeDir, { recursive: true, force: true }));

for (const rt of runtimes()) {
  describe(`capabilities and noNewPrivileges (${rt.name})`, () => {

    test('no inheritable or ambient capabilities beyond the config', () => {
      const set = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
      const b = makeBundle({ args: ['cat', '/proc/self/status'], caps: { bounding: set, effective: set, permitted: set } });
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 0, r.stderr);
        const c = capsOf(r.stdout);
        assert.deepEqual([c.inh, c.amb], [0n, 0n]);
        assert.deepEqual([c.prm, c.eff, c.bnd], [mask(set), mask(set), mask(set)]);
        assert.equal(c.nnp, 1);
      } finally { b.remove(); }
    });

    test('an exec\'d process gets the same sets, nothing inheritable or ambient', () => {
      const set = ['CAP_CHOWN', 'CAP_KILL'];
      const b = makeBundle({ args: ['sleep', '30'], caps: { bounding: set, effective: set, permitted: set } });
      const id = uniqueId('capexec');
      try {
        runDetached(rt, b, id);
        const r = rt.cmd(['exec', id, 'cat', '/proc/self/status']);
        assert.equal(r.status, 0, r.stderr);
        const c = capsOf(r.stdout);
        assert.deepEqual([c.inh, c.amb, c.prm, c.eff, c.bnd, c.nnp], [0n, 0n, mask(set), mask(set), mask(set), 1]);
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });

    test('configured ambient and inheritable sets are exactly what the process gets', () => {
      const set = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
      const b = makeBundle({
        args: ['cat', '/proc/self/status'], user: { uid: 1000, gid: 1000 }, noNewPrivileges: false,
        caps: { bounding: set, effective: set, permitted: set, inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
      });
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 0, r.stderr);
        const c = capsOf(r.stdout);
        assert.equal(c.inh, mask(['CAP_KILL']));
        assert.equal(c.amb, mask(['CAP_KILL']));
        // A non-root user keeps only the ambient capabilities across exec.
        assert.equal(c.eff, mask(['CAP_KILL']));
        assert.equal(c.bnd, mask(set));
        assert.equal(c.nnp, 0);
      } finally { b.remove(); }
    });

    for (const noNewPrivileges of [true, false]) {
      test(`a setuid-root binary run by uid 1000 ${noNewPrivileges ? 'gains nothing under' : 'gains root without'} noNewPrivileges`, () => {
        const b = makeBundle({ args: ['/setuid-probe'], user: { uid: 1000, gid: 1000 }, noNewPrivileges }, (rootfs) => {
          copyFileSync(probe, join(rootfs, 'setuid-probe'));
          chmodSync(join(rootfs, 'setuid-probe'), 0o4755);
        });
        try {
          const r = runOnce(rt, b);
          assert.equal(r.status, 0, r.stderr);
          if (noNewPrivileges) {
            assert.match(r.stdout, /^uid=1000 euid=1000\nCapEff:\s*0+\n$/);
          } else {
            assert.match(r.stdout, /^uid=1000 euid=0\n/);
          }
        } finally { b.remove(); }
      });
    }
  });
}
