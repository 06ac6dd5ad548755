// Endpoint choice (mirrors, plain HTTP only where allowed) and docker
// config.json credential lookup, without a network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

test('WWW-Authenticate challenges parse with quoted commas', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(null), undefined);
});
