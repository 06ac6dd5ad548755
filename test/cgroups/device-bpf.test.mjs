// The cgroup2 device program (used where there is no v1 devices controller),
// attached here to a directory of this host's cgroup2 tree: the kernel checks
// it on every device open of the processes in that cgroup.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, layout, TOP } from './helpers.mjs';

const { attachDeviceFilter, deviceProgram } = await import(new URL('runtime/cgroups/device-bpf.js', dist));
const { DEFAULT_DEVICE_RULES } = await import(new URL('runtime/cgroups/devices.js', dist));

const noCgroup2 = { skip: layout.unified ? false : 'no cgroup2 hierarchy' };
const dir = layout.unified && join(layout.unified, `${TOP}-bpf`);
after(() => {
  if (!dir) return;
  try {
    rmdirSync(dir);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
});

/** Runs `script` in the cgroup (placed before it runs); resolves its stdout. */
function inCgroup(cgroup, script) {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('spawn', () => {
      writeFileSync(join(cgroup, 'cgroup.procs'), String(child.pid));
      child.stdin.write('go\n');
    });
    child.on('close', () => resolve(out));
  });
}

const probe = 'for d in null zero full; do if head -c 1 /dev/$d >/dev/null 2>&1; then echo "$d ok"; else echo "$d denied"; fi; done';

test('deny-all plus the defaults: /dev/null and /dev/zero open, /dev/full (not a default) is denied', noCgroup2, async () => {
  mkdirSync(dir);
  const withoutFull = DEFAULT_DEVICE_RULES.filter((r) => !(r.major === 1 && r.minor === 7));
  attachDeviceFilter(dir, [{ allow: false, access: 'rwm' }, ...withoutFull]);
  assert.equal(await inCgroup(dir, probe), 'null ok\nzero ok\nfull denied\n');
  // The last matching rule decides: a later deny of /dev/zero reads wins over the earlier allow.
  const sub = join(dir, 'later');
  mkdirSync(sub);
  try {
    attachDeviceFilter(sub, [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 5, access: 'r' }]);
    assert.equal(await inCgroup(sub, probe), 'null ok\nzero denied\nfull denied\n', 'the parent program still applies');
  } finally {
    rmdirSync(sub);
  }
});

test('the program is whole instructions and a bad directory is a clear error', () => {
  assert.equal(deviceProgram([{ allow: false }]).length % 8, 0);
  assert.throws(() => attachDeviceFilter('/nonexistent-cgroup', [{ allow: false }]), /device rules for \/nonexistent-cgroup: open: No such file or directory/);
});
