// Tar decoding (imagetool/layer/tar-entries.ts) on archives GNU tar writes in each of
// its formats, on what rocker's own writer encodes, and on broken archives, which
// are refused with the reason. In memory and in a temp dir: no root needed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTarEntries, TarFormatError } from '../../dist/imagetool/layer/tar-entries.js';
import { encodeHeader, blockPadding, END_OF_ARCHIVE } from '../../dist/imagetool/layer/tar-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rocker-tar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LONG = `${'long-directory-name/'.repeat(8)}${'f'.repeat(120)}`;
const src = join(dir, 'src');
mkdirSync(join(src, 'd'), { recursive: true });
mkdirSync(join(src, LONG, '..'), { recursive: true });
writeFileSync(join(src, 'd', 'f'), 'hello\n');
writeFileSync(join(src, LONG), 'deep\n');
symlinkSync('f', join(src, 'd', 'link'));
symlinkSync(`../${'t'.repeat(150)}`, join(src, 'd', 'long-link'));
linkSync(join(src, 'd', 'f'), join(src, 'd', 'hard'));

/** Every entry with its body read (in chunks of whatever size the reader gives). */
async function decode(chunks) {
  const out = [];
  for await (const e of readTarEntries((async function* () { yield* chunks; })())) {
    const body = [];
    for await (const c of e.body) body.push(c);
    out.push({ ...e, body: Buffer.concat(body).toString() });
  }
  return out;
}

/** GNU tar's archive of src in `format`, with fixed owners and times. */
function gnuTar(format) {
  return execFileSync('tar', ['-C', src, `--format=${format}`, '--owner=1234', '--group=5678', '--numeric-owner',
    '--mtime=@1700000000', '--sort=name', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
}

/** The archive cut into 100-byte chunks: headers and data cross chunk boundaries. */
const chunked = (buf, size = 100) => Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));

for (const format of ['gnu', 'oldgnu', 'pax']) {
  test(`GNU tar --format=${format}: names, long names, links, owners and times decode`, async () => {
    const entries = await decode(chunked(gnuTar(format)));
    const by = new Map(entries.map((e) => [e.name.replace(/^\.\//, '').replace(/\/$/, ''), e]));
    assert.equal(by.get('d/f').type, 'file');
    assert.equal(by.get('d/f').body, 'hello\n');
    assert.equal(by.get(LONG).body, 'deep\n', 'a name longer than ustar holds');
    assert.deepEqual([by.get('d/link').type, by.get('d/link').linkname], ['symlink', 'f']);
    assert.equal(by.get('d/long-link').linkname, `../${'t'.repeat(150)}`);
    const hard = [by.get('d/hard'), by.get('d/f')].find((e) => e.type === 'hardlink');
    assert.ok(hard, 'one of the two names is a hard link to the other');
    assert.equal(by.get('d').type, 'dir');
    for (const e of entries) {
      assert.deepEqual([e.uid, e.gid], [1234, 5678], e.name);
      assert.equal(Math.floor(new Date(e.mtime).getTime() / 1000), 1700000000, e.name);
    }
  });
}

test('what rocker\'s writer encodes decodes to the same fields: devices, fifos, PAX xattrs with binary values', async () => {
  const cap = Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const entries = [
    { name: 'dev/null', type: 'chardev', mode: 0o666, uid: 0, gid: 0, size: 0, mtime: new Date(1e12), devMajor: 1, devMinor: 3 },
    { name: 'dev/sda', type: 'blockdev', mode: 0o660, uid: 0, gid: 6, size: 0, mtime: new Date(1e12), devMajor: 8, devMinor: 0 },
    { name: 'run/fifo', type: 'fifo', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: new Date(1e12) },
    { name: 'bin/ping', type: 'file', mode: 0o4755, uid: 0, gid: 0, size: 4, mtime: new Date(1e12), xattrs: new Map([['security.capability', cap]]) },
    { name: `${'x'.repeat(200)}/y`, type: 'file', mode: 0o644, uid: 70000, gid: 70000, size: 0, mtime: new Date(1e12) },
  ];
  const parts = [];
  for (const e of entries) {
    parts.push(encodeHeader(e));
    if (e.size) parts.push(Buffer.from('ping'), blockPadding(e.size));
  }
  parts.push(END_OF_ARCHIVE);
  const got = await decode(chunked(Buffer.concat(parts), 333));
  assert.deepEqual(got.map((e) => [e.name, e.type, e.mode, e.uid, e.gid, e.devMajor, e.devMinor]),
    entries.map((e) => [e.name, e.type, e.mode, e.uid, e.gid, e.devMajor ?? 0, e.devMinor ?? 0]));
  assert.equal(got[3].body, 'ping');
  assert.deepEqual(got[3].xattrs.get('security.capability'), cap, 'binary xattr value byte-exact');
});

test('a body the consumer does not read is skipped, and the next entry is still found', async () => {
  const names = [];
  for await (const e of readTarEntries((async function* () { yield gnuTar('pax'); })())) names.push(e.name);
  assert.ok(names.some((n) => n.endsWith('d/hard')) && names.some((n) => n.endsWith('d/link')), names.join(' '));
});

test('broken archives are refused with the reason', async () => {
  const good = gnuTar('gnu');
  const first = good.subarray(0, 512);
  const badSum = Buffer.from(good);
  badSum[10] ^= 0xff;
  const file = encodeHeader({ name: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 2000, mtime: new Date(0) });
  const pax = (body) => {
    const h = encodeHeader({ name: 'x', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: new Date(0), xattrs: new Map([['user.a', Buffer.from('b')]]) });
    const out = Buffer.from(h);
    out.write(body.padEnd(20, '\n'), 512); // the record area of the PAX header that precedes the entry
    return out;
  };
  const cases = [
    [badSum, /invalid tar header checksum/],
    [first.subarray(0, 300), /truncated tar header/],
    [Buffer.concat([file, Buffer.alloc(700)]), /entry "f": truncated (file data|tar entry)/],
    [pax('99 path=way-too-long-for-the-record'), /malformed PAX record/],
    [pax('20 no-equals-sign-xx'), /malformed PAX record/],
  ];
  for (const [archive, reason] of cases) {
    await assert.rejects(decode([archive]), (e) => e instanceof TarFormatError && reason.test(e.message), String(reason));
  }
  // A type the unpacker does not handle (a GNU volume header) is named.
  const volume = Buffer.from(first);
  volume[156] = 'V'.charCodeAt(0);
  let sum = 0;
  volume.fill(0x20, 148, 156);
  for (const b of volume) sum += b;
  volume.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await assert.rejects(decode([volume, Buffer.alloc(1024)]), /unsupported tar entry type/);
});
