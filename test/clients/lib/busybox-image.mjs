// The image both suites run: busybox-static laid out like the public busybox image,
// built with umoci and exported with skopeo as a docker-archive that `ctr image import`
// and `podman load` both read.
import { mkdirSync, copyFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './proc.mjs';

export const BUSYBOX_REF = 'localhost/rocker-clients/busybox:test';
// The same with a command that idles until killed: a CRI sandbox ("pause") image.
export const PAUSE_REF = 'localhost/rocker-clients/pause:test';
const PAUSE_CMD = ['sleep', '2147483647'];

/** Builds the archive of ref (BUSYBOX_REF or PAUSE_REF) under workDir and returns its path. */
export async function buildBusyboxArchive(workDir, ref = BUSYBOX_REF) {
  const name = ref === PAUSE_REF ? 'pause' : 'busybox';
  const cmd = ref === PAUSE_REF ? PAUSE_CMD : ['sh'];
  const layout = join(workDir, `${name}-oci`);
  const bundle = join(workDir, `${name}-unpacked`);
  const image = `${layout}:test`;
  await runOk('umoci', ['init', '--layout', layout]);
  await runOk('umoci', ['new', '--image', image]);
  await runOk('umoci', ['unpack', '--image', image, bundle]);
  populateRootfs(join(bundle, 'rootfs'));
  await runOk('umoci', ['repack', '--image', image, bundle]);
  await runOk('umoci', ['config', '--image', image, ...cmd.flatMap((arg) => ['--config.cmd', arg]),
    '--config.env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const archive = join(workDir, `${name}.tar`);
  await runOk('skopeo', ['copy', '--quiet', `oci:${image}`, `docker-archive:${archive}:${ref}`]);
  return archive;
}

// No /proc, /sys, /dev or /run mount points beyond what busybox's own image has:
// creating missing mount destinations is the runtime's job.
function populateRootfs(rootfs) {
  for (const d of ['bin', 'etc', 'root', 'tmp', 'var', 'home']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const applet of ['sh', 'echo', 'cat', 'id', 'ls', 'sleep', 'tty', 'grep', 'hostname', 'env', 'true', 'sed']) {
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
}
