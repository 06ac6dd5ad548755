// A minimal busybox-static bundle with `runc spec`'s default config (every runtime
// compared gets the identical one), for the benchmarks and the lifecycle checks.
import { mkdirSync, copyFileSync, symlinkSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function makeBusyboxBundle(dir, args = ['/bin/true']) {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'true', 'sleep', 'echo', 'cat', 'ls']) symlinkSync('busybox', join(rootfs, 'bin', a));
  // `runc spec` is the reference default; every runtime gets the identical config.
  const r = spawnSync('runc', ['spec', '--bundle', dir]);
  if (r.status !== 0) throw new Error(`runc spec: ${r.stderr}`);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = args;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
