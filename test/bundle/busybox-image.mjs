// A busybox image with an Entrypoint, Cmd, Env, WorkingDir and a named User,
// built by umoci into a layout (for pushing to a registry with skopeo).
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const APPLETS = ['sh', 'id', 'echo', 'pwd', 'cat', 'ls', 'touch', 'rm', 'mkdir', 'sleep'];

/** Builds `<dir>/layout` with tag "app"; returns the helpers' layout shape {dir, refs}. */
export function buildAppImage(dir) {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'umoci-bundle');
  const run = (...args) => execFileSync('umoci', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  run('init', '--layout', layout);
  run('new', '--image', `${layout}:app`);
  run('unpack', '--image', `${layout}:app`, bundle);
  const r = join(bundle, 'rootfs');
  for (const d of ['bin', 'etc', 'home/web', 'tmp', 'srv/data']) mkdirSync(join(r, d), { recursive: true });
  copyFileSync('/bin/busybox', join(r, 'bin/busybox'));
  execFileSync('chmod', ['0755', join(r, 'bin/busybox')]);
  for (const a of APPLETS) symlinkSync('busybox', join(r, 'bin', a));
  writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1001:web:/home/web:/bin/sh\n');
  writeFileSync(join(r, 'etc/group'), 'root:x:0:\nweb:x:1001:\naudio:x:29:web\nvideo:x:44:web,root\n');
  writeFileSync(join(r, 'srv/data/seed.txt'), 'seeded\n');
  chownSync(join(r, 'home/web'), 1000, 1001);
  execFileSync('chmod', ['1777', join(r, 'tmp')]);
  run('repack', '--image', `${layout}:app`, bundle);
  rmSync(bundle, { recursive: true });
  run(
    'config', '--image', `${layout}:app`,
    '--config.entrypoint', '/bin/sh', '--config.entrypoint', '-c',
    '--config.cmd', 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) cwd=$(pwd) greeting=$GREETING"',
    '--config.env', 'GREETING=hello', '--config.env', 'PATH=/bin',
    '--config.workingdir', '/home/web', '--config.user', 'web',
    '--config.volume', '/srv/data', '--config.exposedports', '8080/tcp',
    '--config.label', 'org.example.role=test', '--config.stopsignal', 'SIGINT',
  );
  return { dir: layout, refs: { app: 'app' } };
}
