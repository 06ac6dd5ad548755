import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeReference, parseReference, InvalidReferenceError } from '../../dist/imagetool/reference/index.js';

const HEX = 'a'.repeat(64);

test('references normalise as docker does', () => {
  const cases = {
    nginx: 'docker.io/library/nginx:latest',
    'nginx:1.25': 'docker.io/library/nginx:1.25',
    'user/app': 'docker.io/user/app:latest',
    'index.docker.io/library/nginx': 'docker.io/library/nginx:latest',
    'localhost/app': 'localhost/app:latest',
    'localhost:5000/app:v1': 'localhost:5000/app:v1',
    '127.0.0.1:5000/a/b/c': '127.0.0.1:5000/a/b/c:latest',
    'quay.io/org/app:tag-1.2_3': 'quay.io/org/app:tag-1.2_3',
    [`busybox@sha256:${HEX}`]: `docker.io/library/busybox@sha256:${HEX}`,
    [`busybox:1@sha256:${HEX}`]: `docker.io/library/busybox:1@sha256:${HEX}`,
    '[::1]:5000/app': '[::1]:5000/app:latest',
    'my-reg.example.com:443/a__b/c-d.e': 'my-reg.example.com:443/a__b/c-d.e:latest',
  };
  for (const [input, want] of Object.entries(cases)) assert.equal(normalizeReference(input), want, input);
  assert.deepEqual(parseReference('localhost:5000/app:v1'), { domain: 'localhost:5000', path: 'app', tag: 'v1', digest: undefined });
});

test('invalid references are refused with the reason', () => {
  const cases = {
    '': /empty/,
    'Nginx/App': /lowercase|invalid/,
    'nginx:': /invalid tag/,
    'nginx:-bad': /invalid tag/,
    'busybox@sha256:abc': /64/,
    [`busybox@md5:${HEX}`]: /unsupported digest algorithm/,
    'a//b': /path component/,
    'host:5000/': /missing repository/,
    [`x/${'a'.repeat(300)}`]: /longer than 255/,
    'bad_host:5000/app': /invalid registry host/,
  };
  for (const [input, re] of Object.entries(cases)) {
    assert.throws(() => parseReference(input), (e) => e instanceof InvalidReferenceError && re.test(e.message) && e.message.includes('invalid reference format'), input);
  }
});
