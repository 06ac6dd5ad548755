// rocker-image pull against Debian's docker-registry on 127.0.0.1, with images
// built by umoci and pushed by skopeo in OCI and Docker schema 2 form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startRegistry, freePort } from '../helpers/registry.mjs';
import { buildTestLayout, pushImage, skopeoInspect } from '../helpers/images.mjs';
import { checkStore } from '../helpers/store-check.mjs';
import { rockerImage } from '../helpers/rocker-image.mjs';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/rocker-image', import.meta.url));
let work, registry, layout, host;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rocker-pull-'));
  registry = await startRegistry();
  host = registry.host;
  layout = await buildTestLayout(work);
  await Promise.all([
    pushImage(layout, 'amd64', host, 'busybox:latest'),
    pushImage(layout, 'amd64', host, 'busybox-docker:latest', { format: 'v2s2' }),
    pushImage(layout, 'multi', host, 'multi:latest'),
    pushImage(layout, 'multi', host, 'multi-docker:latest', { format: 'v2s2' }),
  ]);
});

after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

let n = 0;
const newRoot = () => join(work, `root-${n++}`);

async function pullOk(root, ref, extra = []) {
  const r = await rockerImage([...extra, 'pull', ref], { root });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await checkStore(root), []);
  return r;
}

test('pull an OCI image: verified store that skopeo and umoci read', async () => {
  const root = newRoot();
  const r = await pullOk(root, `${host}/busybox`);
  assert.match(r.stdout, new RegExp(`Digest: ${layout.manifests.amd64.digest}`));
  assert.match(r.stdout, /pull complete/);
  assert.match(r.stdout, /Status: Downloaded newer image for /);
  const name = `${host}/busybox:latest`;
  assert.ok(r.stdout.trim().endsWith(name));
  const info = await skopeoInspect(`oci:${root}:${name}`);
  assert.equal(info.Digest, layout.manifests.amd64.digest);
  assert.equal(info.Architecture, 'amd64');
  assert.equal(info.Layers.length, 3);
  const bundle = join(work, 'bundle');
  await run('umoci', ['unpack', '--image', `${root}:${name}`, bundle]);
  assert.equal(await readFile(join(bundle, 'rootfs/etc/hello.txt'), 'utf8'), 'hello from rocker tests\n');
  await rm(bundle, { recursive: true, force: true });
  // A second pull finds every blob present.
  const again = await pullOk(root, `${host}/busybox:latest`);
  assert.equal((again.stdout.match(/already exists/g) ?? []).length, 3);
  assert.match(again.stdout, /Status: Image is up to date for /);
});

test('progress: bars on a terminal, lines when piped, only the name with --quiet', async () => {
  const root = newRoot();
  const tty = await run('script', ['-qec', `${process.execPath} ${BIN} --root ${root} pull ${host}/busybox`, '/dev/null'], { env: { ...process.env, DOCKER_CONFIG: '/nonexistent', COLUMNS: '100' } });
  assert.match(tty.stdout, /\x1b\[\d+A\x1b\[2K/, 'redrawn in place');
  assert.match(tty.stdout, /\[=*\s*\] /);
  assert.match(tty.stdout, /pull complete/);
  const quiet = await rockerImage(['--quiet', 'pull', `${host}/busybox`], { root: newRoot() });
  assert.equal(quiet.stdout, `${host}/busybox:latest\n`);
});

test('pull a Docker schema 2 image: stored as OCI with the same layers', async () => {
  const root = newRoot();
  await pullOk(root, `${host}/busybox-docker`);
  const raw = await skopeoInspect(`oci:${root}:${host}/busybox-docker:latest`, true);
  assert.equal(raw.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(raw.config.mediaType, 'application/vnd.oci.image.config.v1+json');
  assert.ok(raw.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
  const oci = await skopeoInspect(`oci:${layout.dir}:amd64`, true);
  assert.deepEqual(raw.layers.map((l) => l.digest), oci.layers.map((l) => l.digest));
});

test('multi-platform index and Docker manifest list: host default, --platform, unknown platform', async () => {
  const root = newRoot();
  await pullOk(root, `${host}/multi`);
  assert.equal((await skopeoInspect(`oci:${root}:${host}/multi:latest`)).Digest, layout.manifests.amd64.digest);
  await pullOk(root, `${host}/multi-docker:latest`, ['--platform', 'linux/arm64']);
  assert.equal((await skopeoInspect(`oci:${root}:${host}/multi-docker:latest`)).Architecture, 'arm64');
  await pullOk(root, `${host}/multi:latest`, ['--platform', 'linux/arm64/v8']);
  const inspect = await rockerImage(['--platform', 'linux/arm64', 'inspect', '--config', `${host}/multi`], { root });
  assert.equal(JSON.parse(inspect.stdout).architecture, 'arm64');
  const before = await readFile(join(root, 'index.json'), 'utf8');
  const bad = await rockerImage(['--platform', 'linux/s390x', 'pull', `${host}/multi`], { root });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no manifest for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8\)/);
  assert.equal(await readFile(join(root, 'index.json'), 'utf8'), before);
  assert.deepEqual(await checkStore(root), []);
});

test('pull by digest; unknown tag, repository and digest give clear errors', async () => {
  const root = newRoot();
  const digest = layout.manifests.amd64.digest;
  await pullOk(root, `${host}/busybox@${digest}`);
  assert.equal((await skopeoInspect(`oci:${root}:${host}/busybox@${digest}`)).Digest, digest);
  const cases = [
    [`${host}/busybox:nope`, /busybox:nope: manifest not found/],
    [`${host}/nothing/here`, /manifest not found/],
    [`${host}/busybox@sha256:${'0'.repeat(64)}`, /manifest not found/],
    ['Bad//Ref', /invalid reference format/],
  ];
  for (const [ref, re] of cases) {
    const r = await rockerImage(['pull', ref], { root });
    assert.equal(r.code, 1, ref);
    assert.match(r.stderr, re, ref);
  }
  const closed = await freePort();
  const refused = await rockerImage(['pull', `127.0.0.1:${closed}/busybox`], { root });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ECONNREFUSED/);
  assert.deepEqual(await checkStore(root), []);
});

test('concurrent pulls of the same image both succeed and store each blob once', async () => {
  const root = newRoot();
  const results = await Promise.all([1, 2, 3].map(() => rockerImage(['-q', 'pull', `${host}/busybox`], { root })));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await checkStore(root), []);
  const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
  assert.equal(index.manifests.length, 1);
  const { stdout } = await run('ls', [join(root, 'blobs/sha256')]);
  assert.equal(stdout.trim().split('\n').length, 5, 'manifest, config and 3 layers');
  // Pulls racing gc (and rmi): every pull that succeeds leaves a complete image.
  await rockerImage(['rmi', `${host}/busybox`], { root });
  const mixed = await Promise.all([
    rockerImage(['-q', 'pull', `${host}/busybox`], { root }),
    rockerImage(['gc'], { root }),
    rockerImage(['-q', 'pull', `${host}/busybox-docker`], { root }),
    rockerImage(['gc'], { root }),
    rockerImage(['-q', 'pull', `${host}/multi`], { root }),
  ]);
  for (const r of mixed) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await checkStore(root), []);
  assert.equal(JSON.parse(await readFile(join(root, 'index.json'), 'utf8')).manifests.length, 3);
});

test('images, inspect, tag, rmi and gc', async () => {
  const root = newRoot();
  await pullOk(root, `${host}/busybox`);
  await pullOk(root, `${host}/multi`, ['--platform', 'linux/arm64']);
  const tag = await rockerImage(['tag', `${host}/busybox`, 'local/mine:v1'], { root });
  assert.equal(tag.code, 0, tag.stderr);
  const json = JSON.parse((await rockerImage(['images', '--format', 'json'], { root })).stdout);
  assert.deepEqual(json.map((i) => i.name).sort(), [`${host}/busybox:latest`, `${host}/multi:latest`, 'docker.io/local/mine:v1']);
  const mine = json.find((i) => i.tag === 'v1');
  assert.equal(mine.platform, 'linux/amd64');
  assert.ok(mine.size > 1_000_000);
  const table = (await rockerImage(['images'], { root })).stdout.split('\n');
  assert.match(table[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+PLATFORM\s+SIZE$/);
  assert.equal(table.filter(Boolean).length, 4);
  assert.match(table[1], /\d+ (seconds?|minutes?) ago/);
  const ids = (await rockerImage(['-q', 'images'], { root })).stdout.trim().split('\n');
  assert.equal(ids.length, 2);
  const inspect = JSON.parse((await rockerImage(['inspect', ids[0]], { root })).stdout);
  assert.equal(inspect.Id.slice(7, 19), ids[0]);
  assert.equal(inspect.Manifest.layers.length, 3);
  // By id with two names: refused without --force.
  const amdId = json.find((i) => i.name === `${host}/busybox:latest`).id;
  const refused = await rockerImage(['rmi', amdId.slice(7, 19)], { root });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /referenced by 2 names/);
  const rmi = await rockerImage(['rmi', `${host}/busybox`, 'local/mine:v1'], { root });
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /Untagged: docker.io\/local\/mine:v1/);
  assert.match(rmi.stdout, /Deleted 2 blobs/, 'amd64 manifest and config; layers are shared with arm64');
  const missing = await rockerImage(['rmi', 'nothere'], { root });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /image not known: nothere/);
  await writeFile(join(root, 'blobs/sha256', 'f'.repeat(64)), 'orphan');
  const gc = await rockerImage(['gc'], { root });
  assert.match(gc.stdout, /Removed 1 blobs/);
  assert.deepEqual(await checkStore(root), []);
  assert.equal((await skopeoInspect(`oci:${root}:${host}/multi:latest`)).Architecture, 'arm64');
});

test('registry mirrors from registries.json: used first, skipped when down', async () => {
  const root = newRoot();
  await rockerImage(['images'], { root });
  const down = await freePort();
  // The "registry" named here does not exist; only its mirror does.
  await writeFile(join(root, 'registries.json'), JSON.stringify({ mirrors: { 'registry.invalid': [`http://${host}`], [host]: [`http://127.0.0.1:${down}`] } }));
  await pullOk(root, 'registry.invalid/busybox');
  const r = await pullOk(root, `${host}/busybox`);
  assert.match(r.stderr, /mirror failed/);
});

test('--insecure-registry before the command: allows a plain-HTTP mirror, leaves the command alone', async () => {
  const root = newRoot();
  await rockerImage(['images'], { root });
  // The IPv4-mapped form reaches the registry on 127.0.0.1 but is not a loopback name.
  const mirror = `[::ffff:127.0.0.1]:${host.split(':')[1]}`;
  await writeFile(join(root, 'registries.json'), JSON.stringify({ mirrors: { 'registry.invalid': [`http://${mirror}`] } }));
  const refused = await rockerImage(['pull', 'registry.invalid/busybox'], { root });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /uses plain HTTP; list ".*" under "insecure" \(or --insecure-registry\)/);
  await pullOk(root, 'registry.invalid/busybox', ['--insecure-registry', mirror]);
  await pullOk(root, 'registry.invalid/busybox', ['--insecure-registry', 'other:5000', '--insecure-registry', mirror]);
});
