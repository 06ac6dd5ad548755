// Test helper: walks an OCI layout store and checks it can be trusted — every
// blob re-hashed against its name, oci-layout, every descriptor, index and manifest
// valid against the image-spec schemas, every ref's manifest, config and layers
// present with the sizes the descriptors state, and no temp files left behind.
import { readdir, readFile, stat } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { validateDescriptor, validateImageIndex, validateImageLayout, validateImageManifest } from '../../dist/schemas/validators.js';

async function hashFile(path) {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c);
  return h.digest('hex');
}

/** Returns a list of problems (empty when the store is consistent). */
export async function checkStore(root, { allowTemp = false } = {}) {
  const problems = [];
  const blobDir = join(root, 'blobs', 'sha256');
  for (const hex of await readdir(blobDir)) {
    if (!/^[a-f0-9]{64}$/.test(hex)) problems.push(`stray file in blobs: ${hex}`);
    else if ((await hashFile(join(blobDir, hex))) !== hex) problems.push(`blob ${hex} does not match its digest`);
  }
  const layout = JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'));
  const schema = (validate, doc, what) => validate(doc) || problems.push(`${what}: ${JSON.stringify(validate.errors)}`);
  schema(validateImageLayout, layout, 'oci-layout');
  const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
  schema(validateImageIndex, index, 'index.json');
  const blob = (d) => join(blobDir, d.digest.replace('sha256:', ''));
  const checkDesc = async (d, what) => {
    schema(validateDescriptor, d, what);
    if (!existsSync(blob(d))) return problems.push(`${what}: ${d.digest} missing`), false;
    if ((await stat(blob(d))).size !== d.size) return problems.push(`${what}: ${d.digest} has the wrong size`), false;
    return true;
  };
  const visit = async (d, what) => {
    if (!(await checkDesc(d, what))) return;
    const doc = JSON.parse(await readFile(blob(d), 'utf8'));
    if (doc.manifests) schema(validateImageIndex, doc, what);
    else schema(validateImageManifest, doc, what);
    if (doc.manifests) for (const m of doc.manifests) await visit(m, `${what} > ${m.digest}`);
    if (doc.config) await checkDesc(doc.config, `${what} config`);
    for (const l of doc.layers ?? []) await checkDesc(l, `${what} layer`);
  };
  for (const d of index.manifests) await visit(d, d.annotations?.['org.opencontainers.image.ref.name'] ?? d.digest);
  if (!allowTemp && existsSync(join(root, 'tmp'))) {
    const left = await readdir(join(root, 'tmp'));
    if (left.length) problems.push(`temp files left: ${left.join(', ')}`);
  }
  return problems;
}
