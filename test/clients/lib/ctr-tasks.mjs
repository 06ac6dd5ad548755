// What the ctr suites read of a task (`ctr task ls`) and check once it is deleted.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { existingCgroups } from './cleanup.mjs';

/**
 * The task's pid and status as `ctr task ls` reports them, undefined once it is deleted.
 * @param {{ok: Function}} ctr a ContainerdDaemon client
 */
export async function taskInfo(ctr, id) {
  const r = await ctr.ok(['task', 'ls']);
  const row = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((cols) => cols[0] === id);
  return row ? { pid: Number(row[1]), status: row[2] } : undefined;
}

/** Polls check (sync or async) until it is truthy; fails naming `what` after ms. */
export async function until(what, check, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (await check()) return;
  }
  assert.fail(`${what} within ${ms} ms`);
}

/** A deleted container of namespace ns left neither its state dir under stateRoot nor its cgroups. */
export function assertGone(stateRoot, ns, id) {
  assert.equal(existsSync(join(stateRoot, ns, id)), false, `runtime state dir of ${id} left behind`);
  assert.deepEqual(existingCgroups(`/${ns}/${id}`), [], `cgroups of ${id} left behind`);
}
