// Builds, with umoci, an OCI layout holding a three-layer image that exercises
// every kind of entry an unpacker must get right, plus the tar files of
// hand-made (and malicious) layers.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { encodeHeader, blockPadding, END_OF_ARCHIVE } from '../../dist/imagetool/layer/tar-writer.js';
import { FsOps } from '../../dist/imagetool/fsops/client.js';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });

// security.capability v2 granting cap_net_bind_service (bit 10), effective.
export const CAP_NET_BIND_SERVICE = Buffer.from([0x01, 0, 0, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/** A layer tar from entry descriptions {name, type, mode?, uid?, gid?, data?, linkname?, xattrs?}. */
export function makeTar(entries) {
  const parts = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(
      encodeHeader({
        name: e.name,
        type: e.type,
        mode: e.mode ?? (e.type === 'dir' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        size: e.type === 'file' ? data.length : 0,
        mtime: new Date(1700000000000),
        linkname: e.linkname,
        xattrs: e.xattrs,
      }),
    );
    if (e.type === 'file') parts.push(data, blockPadding(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** umoci layout `<dir>/layout`, image tag "multi"; returns {layout, tag}. */
export async function buildMultiLayerImage(dir) {
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'work-bundle');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:multi`]);

  // Layer 1: a base with owners, modes, links, xattrs, a fifo and a device.
  run('umoci', ['unpack', '--image', `${layout}:multi`, bundle]);
  const r = join(bundle, 'rootfs');
  mkdirSync(join(r, 'etc'));
  writeFileSync(join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1001::/home/web:/bin/sh\n');
  writeFileSync(join(r, 'etc/group'), 'root:x:0:\nwebgrp:x:1001:\nstaff:x:50:web\naudio:x:29:root,web\n');
  mkdirSync(join(r, 'data'));
  for (const f of ['keep.txt', 'old.txt', 'file1']) writeFileSync(join(r, 'data', f), `${f} v1\n`);
  linkSync(join(r, 'data/file1'), join(r, 'data/hard1'));
  chownSync(join(r, 'data'), 1000, 1001);
  chmodSync(join(r, 'data'), 0o750);
  mkdirSync(join(r, 'gone/inner'), { recursive: true });
  writeFileSync(join(r, 'gone/inner/x'), 'x');
  mkdirSync(join(r, 'opq/sub'), { recursive: true });
  for (const f of ['opq/a', 'opq/b', 'opq/sub/deep']) writeFileSync(join(r, f), f);
  mkdirSync(join(r, 'bin'));
  writeFileSync(join(r, 'bin/suid'), '#!/bin/sh\n');
  chmodSync(join(r, 'bin/suid'), 0o4755);
  writeFileSync(join(r, 'bin/sgid'), '#!/bin/sh\n');
  chownSync(join(r, 'bin/sgid'), 0, 50);
  chmodSync(join(r, 'bin/sgid'), 0o2711);
  mkdirSync(join(r, 'tmp'));
  chmodSync(join(r, 'tmp'), 0o1777);
  writeFileSync(join(r, 'owned'), 'owned');
  chownSync(join(r, 'owned'), 1234, 5678);
  chmodSync(join(r, 'owned'), 0o640);
  symlinkSync('data/file1', join(r, 'link'));
  symlinkSync('/etc/passwd', join(r, 'abs-link'));
  writeFileSync(join(r, 'caps'), 'cap');
  writeFileSync(join(r, 'user-xattr'), 'x');
  const fsops = new FsOps();
  await fsops.setXattr(join(r, 'caps'), 'security.capability', CAP_NET_BIND_SERVICE);
  await fsops.setXattr(join(r, 'user-xattr'), 'user.rocker.test', Buffer.from('hello'));
  await fsops.close();
  run('mkfifo', ['-m', '0620', join(r, 'fifo')]);
  mkdirSync(join(r, 'dev'));
  run('mknod', ['-m', '0666', join(r, 'dev/null'), 'c', '1', '3']);
  run('umoci', ['repack', '--image', `${layout}:multi`, bundle]);
  rmSync(bundle, { recursive: true });

  // Layer 2: deletions (a file, a whole tree), changed hardlinked file, new cross-layer hardlink.
  run('umoci', ['unpack', '--image', `${layout}:multi`, bundle]);
  rmSync(join(r, 'data/old.txt'));
  rmSync(join(r, 'gone'), { recursive: true });
  writeFileSync(join(r, 'data/new.txt'), 'new\n');
  appendFileSync(join(r, 'data/file1'), 'v2\n');
  linkSync(join(r, 'data/keep.txt'), join(r, 'data/hard2'));
  chmodSync(join(r, 'opq/b'), 0o600);
  run('umoci', ['repack', '--image', `${layout}:multi`, bundle]);
  rmSync(bundle, { recursive: true });

  // Layer 3, hand-made: an opaque directory, a whiteout, a hardlink to a lower
  // layer's file, a long (PAX) name.
  const long = `${'deep/'.repeat(24)}long-name-file`;
  const tarPath = join(dir, 'layer3.tar');
  writeFileSync(
    tarPath,
    makeTar([
      { name: '/', type: 'dir', mode: 0o755 },
      { name: 'opq/', type: 'dir', mode: 0o755 },
      { name: 'opq/.wh..wh..opq', type: 'file' },
      { name: 'opq/c', type: 'file', data: 'c\n', uid: 1000, gid: 1001 },
      { name: 'data/.wh.new.txt', type: 'file' },
      { name: 'lower-link', type: 'hardlink', linkname: 'data/keep.txt' },
      ...Array.from({ length: 24 }, (_, i) => ({ name: 'deep/'.repeat(i + 1), type: 'dir' })),
      { name: long, type: 'file', data: 'long\n', xattrs: new Map([['user.long', Buffer.from([0, 1, 2, 0xff])]]) },
    ]),
  );
  run('umoci', ['raw', 'add-layer', '--image', `${layout}:multi`, tarPath]);
  run('umoci', ['config', '--image', `${layout}:multi`, '--config.cmd', '/bin/sh']);
  return { layout, tag: 'multi' };
}

/**
 * A copy of `layout` (at `dest`, without snapshots, so nothing is reused) in
 * which image `tag` is also stored with its layers recompressed as
 * `compression` ('zstd' or 'none'), tagged `<tag>-<compression>`.
 */
export function recompressImage(layout, tag, compression, dest) {
  mkdirSync(dest, { recursive: true });
  run('cp', ['-a', join(layout, 'oci-layout'), join(layout, 'index.json'), join(layout, 'blobs'), dest]);
  const blobPath = (digest) => join(dest, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const writeBlob = (bytes) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    writeFileSync(blobPath(digest), bytes);
    return { digest, size: bytes.length };
  };
  const index = JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8'));
  const entry = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const manifest = JSON.parse(readFileSync(blobPath(entry.digest), 'utf8'));
  manifest.layers = manifest.layers.map((l) => {
    const tar = gunzipSync(readFileSync(blobPath(l.digest)));
    const bytes = compression === 'zstd' ? execFileSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 }) : tar;
    const mediaType = `application/vnd.oci.image.layer.v1.tar${compression === 'zstd' ? '+zstd' : ''}`;
    return { mediaType, ...writeBlob(bytes) };
  });
  const newTag = `${tag}-${compression}`;
  index.manifests.push({ mediaType: entry.mediaType, ...writeBlob(Buffer.from(JSON.stringify(manifest))), annotations: { 'org.opencontainers.image.ref.name': newTag } });
  writeFileSync(join(dest, 'index.json'), JSON.stringify(index));
  return newTag;
}

/**
 * An umoci layout `layout` holding image `tag` made of `layers`, each a tar
 * file's path or an entry list for makeTar; returns its layer digests.
 */
export function imageOfLayers(layout, tag, layers) {
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:${tag}`]);
  for (const [i, layer] of layers.entries()) {
    let tar = layer;
    if (typeof layer !== 'string') writeFileSync((tar = `${layout}.layer-${i}.tar`), makeTar(layer));
    run('umoci', ['raw', 'add-layer', '--image', `${layout}:${tag}`, tar]);
  }
  run('umoci', ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/bin/sh']);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const blob = (d) => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  return blob(index.manifests[0].digest).layers.map((l) => l.digest);
}

/**
 * An OCI layout `layout` holding image `tag` of `count` tiny layers (layer i
 * adds `layers/<i>`, the first also the `layers` dir), written directly: umoci
 * rewrites the manifest per added layer, which takes minutes for thousands.
 */
export function writeManyLayerImage(layout, tag, count) {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const writeBlob = (bytes) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const layers = [];
  const diffIds = [];
  for (let i = 0; i < count; i++) {
    const tar = makeTar([...(i === 0 ? [{ name: 'layers/', type: 'dir' }] : []), { name: `layers/${i}`, type: 'file', data: `${i}\n` }]);
    diffIds.push(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...writeBlob(gzipSync(tar)) });
  }
  const config = { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } };
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...writeBlob(Buffer.from(JSON.stringify(config))) },
    layers,
  };
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: manifest.mediaType, ...writeBlob(Buffer.from(JSON.stringify(manifest))), annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
}
