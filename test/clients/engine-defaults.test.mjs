// A default container of `rocker-image bundle` gets what podman gives the same
// image: the capability sets, no_new_privs, seccomp mode, the answers of its
// seccomp profile to syscalls it refuses (EPERM) or does not know (ENOSYS),
// and the masked and read-only /proc and /sys paths. podman runs the image
// with runc and with rocker-runtime (`podman --runtime`); rocker runs its own
// bundle with rocker-runtime. All three must print the same report.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PodmanStore } from './lib/podman-store.mjs';
import { buildBusyboxArchive, BUSYBOX_REF } from './lib/busybox-image.mjs';
import { describeResult } from './lib/proc.mjs';
import { runtimesUnderTest, uniqueName } from './lib/runtimes.mjs';
import { mountsUnder, rockerImage, rockerImageOk } from '../bundle/cli.mjs';

const here = dirname(fileURLToPath(new URL(import.meta.url)));
const ROCKER = fileURLToPath(new URL('../../bin/rocker-runtime', import.meta.url));

// Every path either engine masks or makes read-only.
const PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/fs/selinux', '/sys/dev/block', '/proc/bus', '/proc/fs', '/proc/irq',
  '/proc/sys', '/proc/sysrq-trigger',
];

// For each path: absent, or whether reading it gives anything and whether its mount is read-only.
const REPORT = [
  "busybox grep -E '^(Cap[A-Za-z]+|NoNewPrivs|Seccomp):' /proc/self/status",
  '/probe',
  `for p in ${PATHS.join(' ')}; do`,
  '  if [ ! -e $p ]; then echo "$p absent"; continue; fi',
  '  if [ -d $p ]; then n=$(busybox ls -A $p 2>/dev/null | busybox wc -l); else n=$(busybox head -c 1 $p 2>/dev/null | busybox wc -c); fi',
  '  [ "$n" = 0 ] && c=empty || c=content',
  // The options of the mount at p or, without one, of the mount it lies under.
  '  m=$p; while ! busybox grep -q " $m " /proc/self/mountinfo; do m=$(busybox dirname $m); done',
  '  o=$(busybox grep " $m " /proc/self/mountinfo | busybox tail -n 1 | busybox cut -d" " -f6 | busybox cut -d, -f1)',
  '  echo "$p $c $o"',
  'done',
].join('\n');

let dir;
let store;
let rockerStore;
let probe;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rocker-engine-defaults-'));
  probe = join(dir, 'probe');
  const cc = spawnSync('cc', ['-static', '-O1', '-o', probe, join(here, 'syscall-probe.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc: ${cc.stderr}`);
  chmodSync(probe, 0o755);
  const archive = await buildBusyboxArchive(dir);
  store = await PodmanStore.create(archive);
  rockerStore = join(dir, 'rocker-store');
  await rockerImageOk(rockerStore, 'import', `docker-archive:${archive}`, BUSYBOX_REF);
});

after(async () => {
  await store?.destroy();
  if (dir) {
    for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  }
});

async function podmanReport(runtime) {
  const podman = store.client(runtime, 'json');
  const r = await podman.run(['run', '--rm', ...podman.runFlags(`defaults-${runtime.name}`), '-v', `${probe}:/probe:ro`, BUSYBOX_REF, 'sh', '-c', REPORT]);
  assert.equal(r.code, 0, describeResult(r));
  return r.stdout;
}

async function rockerReport() {
  const bundle = join(dir, 'bundle');
  const root = join(dir, 'rocker-root');
  const id = uniqueName('rocker-defaults');
  await rockerImageOk(rockerStore, 'bundle', '-v', `${probe}:/probe:ro`, BUSYBOX_REF, bundle, '--', 'sh', '-c', REPORT);
  try {
    const r = spawnSync(ROCKER, ['--root', root, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  } finally {
    spawnSync(ROCKER, ['--root', root, 'delete', '--force', id]);
    await rockerImage(rockerStore, 'unbundle', '--force', bundle);
  }
}

test('a default bundle gets the capabilities, seccomp answers and masked paths podman gives the same image', { timeout: 300_000, skip: process.arch !== 'x64' && 'the probe uses x86_64 syscall numbers' }, async () => {
  const ours = await rockerReport();
  // The report is about something: the engines' 14 capabilities, a filter, refusals.
  assert.match(ours, /^CapBnd:\t00000000a80425fb$/m, ours);
  assert.match(ours, /^Seccomp:\t2$/m, ours);
  assert.match(ours, /^kexec_load 1$/m, ours);
  assert.match(ours, /^syscall-1000 38$/m, ours);
  assert.match(ours, /^\/proc\/timer_list empty /m, ours);
  assert.match(ours, /^\/proc\/sys content ro$/m, ours);
  for (const runtime of runtimesUnderTest()) {
    assert.equal(await podmanReport(runtime), ours, `podman --runtime ${runtime.name} differs from rocker-image bundle + rocker-runtime`);
  }
});
