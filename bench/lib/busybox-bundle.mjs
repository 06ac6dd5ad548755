// A minimal busybox-static bundle whose process runs /bin/true, for runtime benchmarks.
import { mkdirSync, copyFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function makeBusyboxBundle(dir, args = ['/bin/true']) {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'true', 'sleep', 'echo', 'cat']) symlinkSync('busybox', join(rootfs, 'bin', a));
  // `runc spec` is the reference default; every runtime gets the identical config.
  const r = spawnSync('runc', ['spec', '--bundle', dir]);
  if (r.status !== 0) throw new Error(`runc spec: ${r.stderr}`);
  const config = JSON.parse(spawnSync('cat', [join(dir, 'config.json')]).stdout.toString());
  config.process.terminal = false;
  config.process.args = args;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}
