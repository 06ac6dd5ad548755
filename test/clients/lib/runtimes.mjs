// The runtimes the client suites run against. The suites are the same for each: the
// binary is the only parameter, so they test the runc contract, not one runtime's quirks.
// CLIENTS_RUNTIMES="name=/path,..." narrows or replaces the list (e.g. runc=/usr/sbin/runc).
import { fileURLToPath } from 'node:url';

const ROCKER = fileURLToPath(new URL('../../../bin/rocker-runtime', import.meta.url));

const DEFAULT_RUNTIMES = [
  { name: 'runc', path: '/usr/sbin/runc' },
  { name: 'rocker', path: ROCKER },
];

export function runtimesUnderTest() {
  const spec = process.env.CLIENTS_RUNTIMES;
  if (!spec) return DEFAULT_RUNTIMES;
  return spec.split(',').map((pair) => {
    const [name, path] = pair.split('=');
    if (!name || !path) throw new Error(`CLIENTS_RUNTIMES: expected name=/path, got ${JSON.stringify(pair)}`);
    return { name, path };
  });
}

/**
 * Test options for one subtest or suite: rocker's known gaps (listed per suite file, each
 * with the FINDINGS.md entry it waits on) are skipped for rocker only, never for runc.
 * @param {{name: string}} runtime
 * @param {string} title a subtest title, or '*' for the runtime's whole suite
 * @param {Record<string, string>} rockerGaps title -> reason
 */
export function optionsFor(runtime, title, rockerGaps) {
  return runtime.name === 'rocker' ? skipGap(rockerGaps, title, 'rocker') : {};
}

/**
 * Test options skipping a subtest (or with '*' a whole suite) that `gaps` lists.
 * @param {Record<string, string>} gaps title -> reason (its FINDINGS.md entry)
 * @param {string} title
 * @param {string} who what the gap is of, leading the skip reason
 */
export function skipGap(gaps, title, who) {
  const reason = gaps[title];
  return reason ? { skip: `${who}: ${reason}` } : {};
}

/** A name unique to this process, usable as a containerd namespace, id or cgroup name. */
export function uniqueName(prefix) {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
