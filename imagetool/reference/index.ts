// Image references, normalised the way docker and containerd do it:
//   nginx                      -> docker.io/library/nginx:latest
//   localhost:5000/app         -> localhost:5000/app:latest
//   repo@sha256:<hex>          -> digest only (no implied tag)
//   repo:tag@sha256:<hex>      -> both kept; the digest decides what is fetched
import { RockerError } from '../../runtime/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';

/** A reference the user wrote that is not a valid image name. */
export class InvalidReferenceError extends RockerError {
  constructor(readonly input: string, detail: string) {
    super(`invalid reference format "${input}": ${detail}`, { input });
  }
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
const MAX_NAME = 255;

export interface Reference {
  /** Registry host, with port if any (docker.io for Docker Hub). */
  domain: string;
  /** Repository path inside the registry (library/nginx). */
  path: string;
  tag?: string;
  digest?: string;
}

/** `sha256:<64 hex>` is the only digest form the store and registry client accept. */
export function checkDigest(digest: string, input = digest): string {
  if (!DIGEST.test(digest)) throw new InvalidReferenceError(input, `malformed digest "${digest}"`);
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256') throw new InvalidReferenceError(input, `unsupported digest algorithm "${alg}"`);
  if (!SHA256_HEX.test(hex)) throw new InvalidReferenceError(input, 'a sha256 digest has 64 lowercase hex characters');
  return digest;
}

function validDomain(domain: string): boolean {
  const bracketed = /^\[[0-9a-fA-F:.]+\](?::\d+)?$/;
  if (bracketed.test(domain)) return true;
  const m = /^([^:]+)(?::(\d+))?$/.exec(domain);
  return !!m && m[1].split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** docker's rule: the first component is a host if it has a dot, a colon, is localhost, or has capitals. */
function looksLikeDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
}

export function parseReference(input: string): Reference {
  if (!input) throw new InvalidReferenceError(input, 'empty reference');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = checkDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(input, `invalid tag "${tag}"`);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0 && looksLikeDomain(rest.slice(0, slash))) {
    domain = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    if (!validDomain(domain)) throw new InvalidReferenceError(input, `invalid registry host "${domain}"`);
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (!path) throw new InvalidReferenceError(input, 'missing repository name');
  if (path !== path.toLowerCase()) throw new InvalidReferenceError(input, 'repository name must be lowercase');
  for (const c of path.split('/')) {
    if (!PATH_COMPONENT.test(c)) throw new InvalidReferenceError(input, `invalid repository path component "${c}"`);
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (domain.length + 1 + path.length > MAX_NAME) {
    throw new InvalidReferenceError(input, `repository name longer than ${MAX_NAME} characters`);
  }
  if (!tag && !digest) tag = DEFAULT_TAG;
  return { domain, path, tag, digest };
}

/** domain/path, e.g. docker.io/library/nginx. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The full normalised form; this is what the store records as a ref name. */
export function formatReference(ref: Reference): string {
  return repositoryName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** Parse and print back in full form: `nginx` -> `docker.io/library/nginx:latest`. */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}
