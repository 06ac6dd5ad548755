// Registry authentication: htpasswd Basic and token (Bearer) auth through a
// token server the test runs; credentials from DOCKER_CONFIG and login/logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withRegistry } from '../helpers/registry.mjs';
import { buildTestLayout, pushImage } from '../helpers/images.mjs';
import { checkStore } from '../helpers/store-check.mjs';
import { rockerImage } from '../helpers/rocker-image.mjs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/rocker-image', import.meta.url));

const USERS = { alice: 'secret-pw' };
let work, layout;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'rocker-auth-'));
  layout = await buildTestLayout(work);
});

after(() => rm(work, { recursive: true, force: true }));

let n = 0;
function fresh() {
  const i = n++;
  return { root: join(work, `root-${i}`), dockerConfig: join(work, `docker-${i}`) };
}

test('htpasswd Basic auth: refused without credentials, login/pull/logout', () =>
  withRegistry({ auth: 'htpasswd', users: USERS }, async (registry) => {
    await pushImage(layout, 'amd64', registry.host, 'private/busybox:latest', { creds: 'alice:secret-pw' });
    const env = fresh();
    const ref = `${registry.host}/private/busybox`;
    const anon = await rockerImage(['pull', ref], env);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /authentication required \(run: rocker-image login 127\.0\.0\.1:\d+\)/);
    const bad = await rockerImage(['login', '-u', 'alice', '-p', 'wrong', registry.host], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /incorrect username or password/);
    assert.match(bad.stderr, /WARNING! Using --password on the command line is insecure .*use --password-stdin/);
    const login = await rockerImage(['login', '-u', 'alice', '--password-stdin', registry.host], { ...env, input: 'secret-pw\n' });
    assert.equal(login.code, 0, login.stderr);
    const cfgPath = join(env.dockerConfig, 'config.json');
    assert.equal((await stat(cfgPath)).mode & 0o777, 0o600);
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    assert.equal(Buffer.from(cfg.auths[registry.host].auth, 'base64').toString(), 'alice:secret-pw');
    const pulled = await rockerImage(['pull', ref], env);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(await checkStore(env.root), []);
    const out = await rockerImage(['logout', registry.host], env);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(await readFile(cfgPath, 'utf8')).auths, {});
    assert.equal((await rockerImage(['logout', registry.host], env)).code, 1);
  }));

test('login on a terminal asks for the password it was not given', () =>
  withRegistry({ auth: 'htpasswd', users: USERS }, async (registry) => {
    const env = fresh();
    // script(1) gives rocker-image a terminal and types what `input` holds.
    const cmd = [process.execPath, BIN, '--root', env.root, 'login', '-u', 'alice', registry.host].join(' ');
    const r = await new Promise((resolve) => {
      const child = execFile('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, DOCKER_CONFIG: env.dockerConfig }, timeout: 60_000 }, (err, stdout) => resolve({ code: err ? err.code : 0, stdout }));
      child.stdin.end('secret-pw\n');
    });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /Password: [\s\S]*Login Succeeded/);
    const cfg = JSON.parse(await readFile(join(env.dockerConfig, 'config.json'), 'utf8'));
    assert.equal(Buffer.from(cfg.auths[registry.host].auth, 'base64').toString(), 'alice:secret-pw');
    // Without a terminal nothing is asked: the usage error says what is missing.
    const piped = await rockerImage(['login', '-u', 'alice', registry.host], { ...fresh(), input: '' });
    assert.equal(piped.code, 1);
    assert.match(piped.stderr, /login needs --username and --password \(or --password-stdin\), or a terminal to ask on/);
  }));

test('token auth: anonymous pull, credentials from config.json, one token per scope', () =>
  withRegistry({ auth: 'token', users: USERS, anonymousPull: true }, async (registry) => {
    await pushImage(layout, 'amd64', registry.host, 'public/busybox:latest', { creds: 'alice:secret-pw' });
    await pushImage(layout, 'multi', registry.host, 'public/multi:latest', { creds: 'alice:secret-pw' });
    const requests = registry.token.state.requests;
    requests.length = 0;
    const env = fresh();
    const anon = await rockerImage(['pull', `${registry.host}/public/busybox`], env);
    assert.equal(anon.code, 0, anon.stderr);
    assert.deepEqual(requests, [{ user: null, scope: 'repository:public/busybox:pull' }], 'one anonymous token, reused for every request');
    // Credentials written the way docker writes them.
    await mkdir(env.dockerConfig, { recursive: true });
    const auth = Buffer.from('alice:secret-pw').toString('base64');
    await writeFile(join(env.dockerConfig, 'config.json'), JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } }, credsStore: '' }));
    requests.length = 0;
    const withCreds = await rockerImage(['pull', `${registry.host}/public/multi`], env);
    assert.equal(withCreds.code, 0, withCreds.stderr);
    assert.deepEqual(requests, [{ user: 'alice', scope: 'repository:public/multi:pull' }]);
    assert.deepEqual(await checkStore(env.root), []);
    // Wrong stored password: a clear error naming the token server.
    await writeFile(join(env.dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('alice:nope').toString('base64') } } }));
    const wrong = await rockerImage(['pull', `${registry.host}/public/busybox`], env);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /token: unauthorized: incorrect username or password/);
  }));

test('token auth without anonymous access: login required, then pull works', () =>
  withRegistry({ auth: 'token', users: USERS, anonymousPull: false }, async (registry) => {
    await pushImage(layout, 'amd64', registry.host, 'team/busybox:latest', { creds: 'alice:secret-pw' });
    const env = fresh();
    const anon = await rockerImage(['pull', `${registry.host}/team/busybox`], env);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /HTTP 401.*log in with: rocker-image login/);
    assert.equal((await rockerImage(['login', '-u', 'alice', '-p', 'secret-pw', registry.host], env)).code, 0);
    const ok = await rockerImage(['pull', `${registry.host}/team/busybox`], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await checkStore(env.root), []);
  }));
