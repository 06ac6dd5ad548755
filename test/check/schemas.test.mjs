// The validators compiled at build time from the vendored schemas: the runtime-spec
// suite's examples (every bad config, features and state document is rejected
// naming the file and JSON path, every good linux one passes), and the image-spec
// documents rocker reads and writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  validateConfig, validateFeatures, validateState, validateImageConfig, validateImageManifest, validateImageIndex,
  validateImageLayout, validateDescriptor,
} from '../../dist/schemas/validators.js';
import { assertValid, parseJson } from '../../dist/runtime/spec/validate.js';

const suite = new URL('../../schemas/runtime-spec/test/', import.meta.url).pathname;

function check(validate, file) {
  const data = parseJson(readFileSync(file, 'utf8'), file);
  assertValid(validate, data, file);
}

for (const [kind, validate] of [['config', validateConfig], ['features', validateFeatures], ['state', validateState]]) {
  const dir = join(suite, kind);
  for (const name of readdirSync(join(dir, 'good')).filter((n) => !/^(freebsd|zos)-/.test(n))) {
    test(`good ${kind} ${name} validates`, () => check(validate, join(dir, 'good', name)));
  }
  for (const name of readdirSync(join(dir, 'bad'))) {
    test(`bad ${kind} ${name} is rejected with file and JSON path`, () => {
      const file = join(dir, 'bad', name);
      assert.throws(() => check(validate, file), (e) => {
        assert.equal(e.name, 'SpecError');
        assert.ok(e.message.startsWith(`${file}: `), e.message);
        if (!name.startsWith('invalid-json')) assert.match(e.message, /\$(\.[a-z]|: )/i);
        return true;
      });
    });
  }
}

const digest = (c) => `sha256:${c.repeat(64)}`;
const descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digest('a'), size: 7143, platform: { architecture: 'amd64', os: 'linux' } };
const manifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest('b'), size: 7023 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest('c'), size: 32654 }],
  annotations: { 'org.opencontainers.image.ref.name': 'v1' },
};
const config = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [digest('d')] } };

test('image-spec documents: valid ones pass, each broken one fails', () => {
  for (const [validate, good, bad] of [
    [validateDescriptor, descriptor, { ...descriptor, digest: 'no-algorithm' }],
    [validateImageManifest, manifest, { ...manifest, schemaVersion: 1 }],
    [validateImageIndex, { schemaVersion: 2, manifests: [descriptor] }, { schemaVersion: 2, manifests: [{ ...descriptor, size: 'big' }] }],
    [validateImageConfig, config, { ...config, rootfs: { type: 'layers', diff_ids: 'none' } }],
    [validateImageLayout, { imageLayoutVersion: '1.0.0' }, {}],
  ]) {
    assert.equal(validate(good), true, JSON.stringify(validate.errors));
    assert.equal(validate(bad), false, JSON.stringify(bad));
  }
});
