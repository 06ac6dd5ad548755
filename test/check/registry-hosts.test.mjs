// Endpoint choice (mirrors, plain HTTP only where allowed) and docker
// config.json credential lookup, without a network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointsFor, isLoopback, loadRegistriesConfig } from '../../dist/imagetool/registry/hosts.js';
import { lookupCredentials } from '../../dist/imagetool/registry/credentials.js';
import { parseChallenge } from '../../dist/imagetool/registry/auth.js';

test('plain HTTP only for loopback and --insecure-registry hosts; mirrors first', async () => {
  for (const h of ['localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000']) assert.ok(isLoopback(h), h);
  for (const h of ['10.0.0.1:5000', 'example.com', 'localhost.example.com']) assert.ok(!isLoopback(h), h);
  const cfg = { mirrors: { 'docker.io': ['https://mirror.example.com', 'http://10.1.1.1:5000/'] }, insecure: ['reg.lan:5000', '10.1.1.1:5000'] };
  const hub = endpointsFor('docker.io', cfg, []);
  assert.deepEqual(hub.map((e) => [e.host, e.scheme, e.mirror, e.insecure]), [
    ['mirror.example.com', 'https', true, false],
    ['10.1.1.1:5000', 'http', true, true],
    ['registry-1.docker.io', undefined, false, false],
  ]);
  assert.equal(endpointsFor('reg.lan:5000', cfg, [])[0].insecure, true);
  assert.equal(endpointsFor('other:5000', cfg, [])[0].insecure, false);
  assert.equal(endpointsFor('other:5000', cfg, ['other:5000'])[0].insecure, true);
  assert.throws(() => endpointsFor('docker.io', { mirrors: { 'docker.io': ['ftp://x/y/z'] }, insecure: [] }, []), /invalid mirror URL/);
  assert.throws(() => endpointsFor('docker.io', { mirrors: { 'docker.io': ['http://10.2.2.2'] }, insecure: [] }, []), /uses plain HTTP; list "10\.2\.2\.2" under "insecure"/);
  const root = await mkdtemp(join(tmpdir(), 'rocker-hosts-'));
  try {
    await writeFile(join(root, 'registries.json'), '{"mirrors": {"docker.io": "not-a-list"}}');
    await assert.rejects(loadRegistriesConfig(root), /registries\.json: "mirrors" must map a registry to a list/);
    // A misspelt key is an error naming it, not a mirror silently unused.
    await writeFile(join(root, 'registries.json'), '{"mirror": {"docker.io": ["https://m.example.com"]}}');
    await assert.rejects(loadRegistriesConfig(root), /registries\.json: unknown key "mirror" \(the keys are "mirrors" and "insecure"\)/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('credentials from DOCKER_CONFIG: host keys, URL keys and Docker Hub aliases', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rocker-dockercfg-'));
  const saved = process.env.DOCKER_CONFIG;
  process.env.DOCKER_CONFIG = dir;
  const b64 = (s) => Buffer.from(s).toString('base64');
  try {
    await writeFile(join(dir, 'config.json'), JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pw') },
        'https://reg.example.com': { auth: b64('u1:p1') },
        'localhost:5000': { username: 'u2', password: 'p2' },
        'bad.example.com': { auth: b64('no-colon') },
      },
    }));
    assert.deepEqual(await lookupCredentials('docker.io'), { username: 'hubuser', password: 'hub:pw' });
    assert.deepEqual(await lookupCredentials('reg.example.com'), { username: 'u1', password: 'p1' });
    assert.deepEqual(await lookupCredentials('localhost:5000'), { username: 'u2', password: 'p2' });
    assert.equal(await lookupCredentials('nobody.example.com'), undefined);
    await assert.rejects(lookupCredentials('bad.example.com'), /auths\["bad\.example\.com"\]\.auth: expected base64/);
  } finally {
    if (saved === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = saved;
    await rm(dir, { recursive: true, force: true });
  }
});

test('credentials from podman auth.json first, then docker config.json; credHelpers and credsStore ask docker-credential-NAME', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rocker-authfiles-'));
  const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, REGISTRY_AUTH_FILE: process.env.REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, PATH: process.env.PATH };
  const b64 = (s) => Buffer.from(s).toString('base64');
  try {
    // A helper speaking docker's protocol: the server on stdin, JSON on stdout; it logs what it was asked.
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'docker-credential-testhelper'), [
      '#!/bin/sh',
      `[ "$1" = get ] || exit 2`,
      'read server',
      `echo "$server" >> '${dir}/asked'`,
      'case "$server" in',
      '  helped.example.com) echo \'{"ServerURL":"helped.example.com","Username":"hu","Secret":"hs"}\' ;;',
      '  https://index.docker.io/v1/) echo \'{"Username":"storeuser","Secret":"storepw"}\' ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
      '',
    ].join('\n'), { mode: 0o755 });
    process.env.PATH = `${join(dir, 'bin')}:${saved.PATH}`;
    await mkdir(join(dir, 'docker'));
    await mkdir(join(dir, 'xdg', 'containers'), { recursive: true });
    process.env.DOCKER_CONFIG = join(dir, 'docker');
    process.env.XDG_RUNTIME_DIR = join(dir, 'xdg');
    delete process.env.REGISTRY_AUTH_FILE;
    await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify({
      auths: { 'both.example.com': { auth: b64('docker:d') }, 'docker.example.com': { auth: b64('docker:d2') } },
      credHelpers: { 'helped.example.com': 'testhelper', 'broken.example.com': 'missinghelper' },
      credsStore: 'testhelper',
    }));
    await writeFile(join(dir, 'xdg', 'containers', 'auth.json'), JSON.stringify({ auths: { 'both.example.com': { auth: b64('podman:p') } } }));
    assert.deepEqual(await lookupCredentials('both.example.com'), { username: 'podman', password: 'p' }, "podman's auth.json first");
    assert.deepEqual(await lookupCredentials('docker.example.com'), { username: 'docker', password: 'd2' });
    assert.deepEqual(await lookupCredentials('helped.example.com'), { username: 'hu', password: 'hs' }, 'credHelpers');
    assert.deepEqual(await lookupCredentials('docker.io'), { username: 'storeuser', password: 'storepw' }, 'credsStore, asked with the Hub key');
    assert.equal(await lookupCredentials('nobody.example.com'), undefined, '"credentials not found" is no credentials');
    await assert.rejects(lookupCredentials('broken.example.com'), /credential helper docker-credential-missinghelper .* failed for broken\.example\.com: not found in PATH/);
    // REGISTRY_AUTH_FILE replaces the XDG location.
    await writeFile(join(dir, 'other-auth.json'), JSON.stringify({ auths: { 'both.example.com': { auth: b64('file:f') } } }));
    process.env.REGISTRY_AUTH_FILE = join(dir, 'other-auth.json');
    assert.deepEqual(await lookupCredentials('both.example.com'), { username: 'file', password: 'f' });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  }
});

test('WWW-Authenticate challenges parse with quoted commas', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(null), undefined);
});
