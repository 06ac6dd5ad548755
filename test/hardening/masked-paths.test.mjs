// maskedPaths really hide (a file becomes /dev/null, char 1:3; a directory a read-only
// tmpfs), readonlyPaths are read-only, and the runtime's writes under /proc go to the
// real procfs: a rootfs whose /proc is a symlink to a plain directory never receives a
// sysctl value.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostMounts, makeBundle, runOnce, runtimes } from './lib.mjs';

const script = [
  'stat -c "%n %F %t:%T" /masked-file /proc/timer_list',
  'echo "content=[$(cat /masked-file)]"',
  'echo "dir=[$(ls -A /masked-dir)]"',
  'touch /masked-dir/new 2>/dev/null; echo "touch-masked-dir=$?"',
  'echo x > /masked-file; echo "write-masked-file=$?"; echo "after=[$(cat /masked-file)]"',
  'touch /ro-dir/new 2>/dev/null; echo "touch-ro-dir=$?"',
  'echo "ro-dir=[$(ls -A /ro-dir)]"',
  'grep -c " /masked-dir .* tmpfs .*ro" /proc/self/mountinfo || grep " /masked-dir " /proc/self/mountinfo',
].join('; ');

const hostFile = join('/tmp', `hardening-masked-host-${process.pid}`);
before(() => writeFileSync(hostFile, 'host file\n'));
after(() => rmSync(hostFile, { force: true }));

for (const rt of runtimes()) {
  describe(`masked and read-only paths, procfs writes (${rt.name})`, () => {

    test('masked files are /dev/null, masked dirs read-only empty tmpfs, readonly paths read-only', () => {
      const b = makeBundle({
        args: ['sh', '-c', script],
        linux: { maskedPaths: ['/masked-file', '/masked-dir', '/proc/timer_list', '/does-not-exist'], readonlyPaths: ['/ro-dir'] },
      }, (rootfs) => {
        writeFileSync(join(rootfs, 'masked-file'), 'SECRET-FILE');
        mkdirSync(join(rootfs, 'masked-dir'));
        writeFileSync(join(rootfs, 'masked-dir/secret'), 'SECRET-DIR');
        mkdirSync(join(rootfs, 'ro-dir'));
        writeFileSync(join(rootfs, 'ro-dir/kept'), 'kept');
      });
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^\/masked-file character special file 1:3$/m);
        assert.match(r.stdout, /^\/proc\/timer_list character special file 1:3$/m);
        assert.match(r.stdout, /^content=\[\]$/m);
        assert.match(r.stdout, /^dir=\[\]$/m);
        assert.match(r.stdout, /^touch-masked-dir=1$/m);
        assert.match(r.stdout, /^after=\[\]$/m); // writes to /dev/null vanish
        assert.match(r.stdout, /^touch-ro-dir=1$/m);
        assert.match(r.stdout, /^ro-dir=\[kept\]$/m);
        assert.match(r.stdout, /^1$/m);
        assert.ok(!r.stdout.includes('SECRET'));
        assert.equal(readFileSync(join(b.rootfs, 'masked-file'), 'utf8'), 'SECRET-FILE');
      } finally { b.remove(); }
    });

    test('a maskedPath that is a symlink to a host path is resolved inside the root', () => {
      // The absolute link target is looked up in the rootfs: the in-root file gets
      // masked, the host file of the same name is never touched.
      const b = makeBundle({ args: ['stat', '-L', '-c', '%F %t:%T', '/masked-link'], linux: { maskedPaths: ['/masked-link'] } },
        (rootfs) => {
          symlinkSync(hostFile, join(rootfs, 'masked-link'));
          writeFileSync(join(rootfs, hostFile), 'in-root file\n');
        });
      try {
        const r = runOnce(rt, b);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'character special file 1:3\n');
        assert.deepEqual(hostMounts().filter((m) => m.startsWith(`${hostFile} `)), []);
        assert.equal(readFileSync(hostFile, 'utf8'), 'host file\n');
        assert.equal(readFileSync(join(b.rootfs, hostFile), 'utf8'), 'in-root file\n');
      } finally { b.remove(); }
    });

    test('sysctl is written through the real procfs, never into a /proc symlinked to a plain directory', () => {
      const b = makeBundle({ args: ['cat', '/proc/sys/net/ipv4/ip_forward'], linux: { sysctl: { 'net.ipv4.ip_forward': '1' } } },
        (rootfs) => {
          rmSync(join(rootfs, 'proc'), { recursive: true });
          mkdirSync(join(rootfs, 'fakeproc/sys/net/ipv4'), { recursive: true });
          writeFileSync(join(rootfs, 'fakeproc/sys/net/ipv4/ip_forward'), '0\n');
          symlinkSync('/fakeproc', join(rootfs, 'proc'));
        });
      try {
        const r = runOnce(rt, b);
        assert.equal(readFileSync(join(b.rootfs, 'fakeproc/sys/net/ipv4/ip_forward'), 'utf8'), '0\n');
        if (r.status === 0) assert.equal(r.stdout, '1\n');
        else assert.ok(r.stderr.trim().length > 0, 'a refusal says why');
      } finally { b.remove(); }
    });
  });
}

