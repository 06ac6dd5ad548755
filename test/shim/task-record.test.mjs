// The shim's task records (shim/task-record.ts): a worker takes over only its own
// containerd's tasks from a namespace root that two containerds on one host may share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTasks, removeTask, saveTask } from '../../dist/shim/task-record.js';

const record = (address, id) => ({ address, id, bundle: `/b/${id}`, stdin: '', stdout: '', stderr: '', terminal: false, pid: 1, mounted: false, cgroupPaths: {}, started: true, exitTold: false });

test("a worker loads its own containerd's records only, skips unreadable ones, and a removed record is gone", () => {
  const root = mkdtempSync(join(tmpdir(), 'rocker-task-record-'));
  try {
    saveTask(root, record('/run/a.sock', 'one'));
    saveTask(root, record('/run/b.sock', 'two'));
    saveTask(root, record('/run/a.sock', 'three'));
    writeFileSync(join(root, 'four.task.json'), '{"address":');
    assert.deepEqual(loadTasks(root, '/run/a.sock').map((r) => r.id).sort(), ['one', 'three']);
    assert.deepEqual(loadTasks(root, '/run/b.sock'), [record('/run/b.sock', 'two')]);
    removeTask(root, 'one');
    assert.deepEqual(loadTasks(root, '/run/a.sock').map((r) => r.id), ['three']);
    // Written whole: no temporary file stays beside the records.
    assert.deepEqual(readdirSync(root).sort(), ['four.task.json', 'three.task.json', 'two.task.json']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
