// Test fixture: a real nginx image made the way nginx's own Debian image is,
// from Debian's packages: `debootstrap --variant=minbase bookworm` plus
// Debian's nginx, an entrypoint script, logs to stdout/stderr,
// CMD ["nginx","-g","daemon off;"] and STOPSIGNAL SIGQUIT.
//
// debootstrap takes minutes, so the rootfs tarball is cached between runs in
// ROCKER_TEST_CACHE (default /var/cache/rocker-test), as are the downloaded
// .debs; a run after the first only hashes the tarball into an OCI layout.
// The mirror is the one apt on this machine uses for bookworm.
//
//   const layout = await buildNginxLayout(dir)   // -> { dir, refs: { nginx: 'nginx' } }
//   await pushImage(layout, 'nginx', registry.host, 'library/nginx:latest')  (helpers/images.mjs)
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const NGINX_CACHE = process.env.ROCKER_TEST_CACHE ?? '/var/cache/rocker-test';
// Bump when the recipe below changes: the cached tarball is named after it.
const RECIPE = 'nginx-bookworm-minbase-1';
const SUITE = 'bookworm';

/** The Debian mirror apt uses here for `suite` (deb822 .sources or one-line sources.list). */
export function aptMirror(suite = SUITE) {
  const files = ['/etc/apt/sources.list', ...readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))];
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(suite) && field('Components').includes('main')) return field('URIs')[0];
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
        if (m && m[2] === suite && m[3].split(/\s+/).includes('main')) return m[1];
      }
    }
  }
  return 'http://deb.debian.org/debian';
}

const ENTRYPOINT = `#!/bin/sh
# As nginx's image does: run the command, letting nginx be PID 1.
set -e
exec "$@"
`;

/** debootstrap + nginx into a tarball in the cache (built under a temp name, renamed when complete). */
async function rootfsTarball() {
  const tarball = join(NGINX_CACHE, `${RECIPE}.tar`);
  if (existsSync(tarball)) return tarball;
  await mkdir(join(NGINX_CACHE, 'debs'), { recursive: true });
  const work = join(NGINX_CACHE, `${RECIPE}.build-${process.pid}`);
  const rootfs = join(work, 'rootfs');
  await rm(work, { recursive: true, force: true });
  try {
    await run('debootstrap', ['--variant=minbase', '--include=nginx', `--cache-dir=${join(NGINX_CACHE, 'debs')}`, SUITE, rootfs, aptMirror()], { maxBuffer: 64 << 20 });
    // What an image does not ship: apt's lists and archives, logs to files.
    for (const d of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const f of readdirSync(join(rootfs, d))) if (f !== 'partial' && f !== 'lock') await rm(join(rootfs, d, f), { recursive: true, force: true });
    }
    for (const [log, target] of [['access.log', '/dev/stdout'], ['error.log', '/dev/stderr']]) {
      await rm(join(rootfs, 'var/log/nginx', log), { force: true });
      await symlink(target, join(rootfs, 'var/log/nginx', log));
    }
    await writeFile(join(rootfs, 'docker-entrypoint.sh'), ENTRYPOINT);
    await chmod(join(rootfs, 'docker-entrypoint.sh'), 0o755);
    // Member names without a leading "./", numeric owners, xattrs (file capabilities) kept.
    const names = readdirSync(rootfs);
    await run('tar', ['-C', rootfs, '--numeric-owner', '--xattrs', '--xattrs-include=*', '-cf', `${work}/rootfs.tar`, ...names]);
    await rename(`${work}/rootfs.tar`, tarball);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return tarball;
}

async function sha256File(path) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest('hex');
}

async function writeJsonBlob(dir, doc) {
  const bytes = Buffer.from(JSON.stringify(doc));
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** An OCI layout at `<parent>/nginx-layout` with tag "nginx": one uncompressed layer, the cached rootfs. */
export async function buildNginxLayout(parent) {
  const tarball = await rootfsTarball();
  const dir = join(parent, 'nginx-layout');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const hex = await sha256File(tarball);
  // A hard link when the cache is on the same filesystem, else a copy.
  await run('cp', ['--reflink=auto', '-l', tarball, join(dir, 'blobs', 'sha256', hex)]).catch(() => run('cp', [tarball, join(dir, 'blobs', 'sha256', hex)]));
  const size = Number((await run('stat', ['-c', '%s', tarball])).stdout.trim());
  const config = await writeJsonBlob(dir, {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Entrypoint: ['/docker-entrypoint.sh'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      ExposedPorts: { '80/tcp': {} },
      StopSignal: 'SIGQUIT',
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${hex}`] },
    history: [{ created_by: `debootstrap --variant=minbase --include=nginx ${SUITE}` }],
  });
  const manifest = await writeJsonBlob(dir, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${hex}`, size }],
  });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'nginx' } }],
  }));
  return { dir, refs: { nginx: 'nginx' } };
}
