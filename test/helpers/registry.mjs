// Test fixture: Debian's docker-registry on 127.0.0.1, plain, with htpasswd
// Basic auth, or with token auth through a small token server run here (JWTs
// signed RS256 by a key and self-signed certificate made with openssl at start).
// Reusable by any test that needs a registry: see startRegistry().
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import http from 'node:http';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A token server for the registry's `auth: token` mode. */
async function startTokenServer(dir, { users, anonymousPull, service, issuer }) {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=rocker-test-token'], { stdio: 'ignore' });
  const key = readFileSync(keyPath, 'utf8');
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const state = { requests: [], lifetime: 300 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let user = null;
    const authz = req.headers.authorization;
    if (authz) {
      const [u, p] = Buffer.from(authz.replace(/^Basic /, ''), 'base64').toString().split(':');
      if (users[u] !== p) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
        state.requests.push({ user: u, scope: url.searchParams.get('scope'), denied: true });
        return;
      }
      user = u;
    }
    const scope = url.searchParams.get('scope');
    state.requests.push({ user, scope });
    const access = [];
    if (scope) {
      const [type, name, actions] = scope.split(':');
      const granted = user ? actions.split(',') : anonymousPull ? actions.split(',').filter((a) => a === 'pull') : [];
      if (granted.length) access.push({ type, name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + state.lifetime, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signing).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${signing}.${b64url(sig)}`, expires_in: state.lifetime, issued_at: new Date().toISOString() }));
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/token`, certPath, state, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Starts a registry. auth: 'none' | 'htpasswd' | 'token'. users: { name: password }.
 * Returns { host, port, dir, users, token?, stop() }.
 */
export async function startRegistry({ auth = 'none', users = { alice: 'secret-pw' }, anonymousPull = false } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'rocker-registry-'));
  let authYaml = '';
  let token;
  if (auth === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    for (const [u, p] of Object.entries(users)) execFileSync('htpasswd', ['-B', '-b', ...(Object.keys(users)[0] === u ? ['-c'] : []), file, u, p], { stdio: 'ignore' });
    authYaml = `auth:\n  htpasswd:\n    realm: rocker-test\n    path: ${file}\n`;
  } else if (auth === 'token') {
    token = await startTokenServer(dir, { users, anonymousPull, service: 'rocker-test-registry', issuer: 'rocker-test-issuer' });
    authYaml = `auth:\n  token:\n    realm: ${token.url}\n    service: rocker-test-registry\n    issuer: rocker-test-issuer\n    rootcertbundle: ${token.certPath}\n`;
  }
  const config = join(dir, 'config.yml');
  const secret = randomBytes(16).toString('hex');
  const launch = async (port) => {
    await writeFile(config, `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: ${secret}
${authYaml}`);
    const child = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    await new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(Object.assign(new Error(`docker-registry exited ${code}: ${log}`), { log })));
      child.stderr.on('data', (d) => {
        log += d;
        if (log.includes('listening on')) resolve();
      });
    });
    child.removeAllListeners('exit');
    child.stderr.resume();
    return child;
  };
  // The registry takes its port from the config, so a free port is probed first; another
  // process on the machine can bind it in between: then it is tried again on a new one.
  let port;
  let child;
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port);
    } catch (e) {
      if (attempt === 5 || !/address already in use/.test(e.log ?? '')) throw e;
    }
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    users,
    token,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await token?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn(registry) with a registry started by startRegistry(options), stopped afterwards. */
export async function withRegistry(options, fn) {
  const registry = await startRegistry(options);
  try {
    return await fn(registry);
  } finally {
    await registry.stop();
  }
}

/**
 * Puts image `tag` of the OCI layout `layoutDir` into `registry` as
 * `repo:repoTag` by writing the registry's own filesystem storage (blobs,
 * layer and manifest links, tag), which it then serves like a pushed image.
 * For images of thousands of blobs, which a push uploads one request at a time.
 */
export async function seedRegistry(registry, layoutDir, tag, repo, repoTag) {
  const { mkdir, copyFile, readFile: read } = await import('node:fs/promises');
  const v2 = join(registry.dir, 'data', 'docker', 'registry', 'v2');
  const repoDir = join(v2, 'repositories', repo);
  const link = async (dir, digest) => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'link'), digest);
  };
  const putBlob = async (digest) => {
    const hex = digest.slice('sha256:'.length);
    const dir = join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex);
    await mkdir(dir, { recursive: true });
    await copyFile(join(layoutDir, 'blobs', 'sha256', hex), join(dir, 'data'));
    return hex;
  };
  const index = JSON.parse(await read(join(layoutDir, 'index.json'), 'utf8'));
  const entry = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const manifest = JSON.parse(await read(join(layoutDir, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8'));
  for (const d of [manifest.config, ...manifest.layers]) await link(join(repoDir, '_layers', 'sha256', await putBlob(d.digest)), d.digest);
  const hex = await putBlob(entry.digest);
  await link(join(repoDir, '_manifests', 'revisions', 'sha256', hex), entry.digest);
  await link(join(repoDir, '_manifests', 'tags', repoTag, 'current'), entry.digest);
  await link(join(repoDir, '_manifests', 'tags', repoTag, 'index', 'sha256', hex), entry.digest);
}
