// podman 4.3 + conmon drive the runtime (`podman --runtime PATH`). One private store
// serves the whole file. Each runtime runs twice: under a name conmon gives JSON --log
// flags to (runc), and under its own name, which gets none (errors are stderr text).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PodmanStore } from './lib/podman-store.mjs';
import { buildBusyboxArchive, BUSYBOX_REF } from './lib/busybox-image.mjs';
import { describeResult } from './lib/proc.mjs';
import { existingCgroups } from './lib/cleanup.mjs';
import { runtimesUnderTest, optionsFor } from './lib/runtimes.mjs';
import { fileInside, frozen, home, pathsOf } from '../cgroups/layout.mjs';

// Limits as the container sees them on this host's layout (v1 files, or cgroup2's).
const MEMORY_MAX = fileInside('memory', 'memory.limit_in_bytes', 'memory.max');
const PIDS_MAX = fileInside('pids', 'pids.max', 'pids.max');
const CPU_V1 = home('cpu') === 'v1';
const CPU_FILES = CPU_V1 ? [fileInside('cpu', 'cpu.cfs_quota_us'), fileInside('cpu', 'cpu.cfs_period_us')] : [fileInside('cpu', '', 'cpu.max')];
const cpuSeen = (quota, period) => (CPU_V1 ? `${quota}\n${period}\n` : `${quota} ${period}\n`);

/** rocker subtests that cannot pass yet, each with the FINDINGS.md entry it waits on. */
const ROCKER_GAPS = {};

let workDir;
let store;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'rocker-clients-image-'));
  store = await PodmanStore.create(await buildBusyboxArchive(workDir));
});

after(async () => {
  await store?.destroy();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

for (const runtime of runtimesUnderTest()) {
  for (const mode of ['json', 'text']) {
    describe(`podman with ${runtime.name} (${mode} error log)`, optionsFor(runtime, '*', ROCKER_GAPS), () => {
      const label = `${runtime.name}-${mode}`;
      const it = (title, fn) => test(title, optionsFor(runtime, title, ROCKER_GAPS), fn);
      let podman;

      before(() => {
        podman = store.client(runtime, mode);
      });

      after(async () => {
        await podman?.run(['rm', '--all', '--force', '--time', '0']);
      });

      /** `podman run --rm` of a command in the busybox image with extra run flags. */
      function runRm(name, flags, cmd) {
        return podman.run(['run', '--rm', ...podman.runFlags(name), ...flags, BUSYBOX_REF, ...cmd]);
      }

      /** The container's cgroups and runtime state are gone once podman removed it. */
      function assertRemoved(name) {
        const id = readFileSync(podman.cidFile(name), 'utf8').trim();
        assert.deepEqual(existingCgroups(`/${store.cgroupParent}/libpod-${id}`), [], 'cgroups left behind');
        assert.equal(existsSync(join(podman.stateRoot, id)), false, 'runtime state left behind');
      }

      it('podman info shows the runtime --version', async () => {
        const r = await podman.ok(['info', '--format', '{{.Host.OCIRuntime.Version}}']);
        assert.match(r.stdout, /^\S+ version \S+\ncommit: \S+\nspec: \S+/);
      });

      it('run --rm passes output and the exit code through', async () => {
        const r = await runRm('exit42', [], ['sh', '-c', 'echo hello; echo oops >&2; exit 42']);
        assert.equal(r.code, 42, describeResult(r));
        assert.equal(r.stdout, 'hello\n', describeResult(r));
        assert.equal(r.stderr, 'oops\n', describeResult(r));
        assertRemoved('exit42');
      });

      it('run of a missing binary exits 127 with the runtime error', async () => {
        const name = `missing-${label}-${process.pid}`;
        // Not --rm: the container's userdata, with conmon's oci-log, must outlive the run.
        const r = await podman.run(['run', '--name', name, ...podman.runFlags('missing'), BUSYBOX_REF, '/nonexistent']);
        try {
          assert.equal(r.code, 127, describeResult(r));
          assert.match(r.stderr, /\/nonexistent.*no such file or directory/, describeResult(r));
          if (mode === 'json') {
            // podman reads oci-log with one json.Unmarshal: exactly one object, whose msg it shows.
            const id = readFileSync(podman.cidFile('missing'), 'utf8').trim();
            const log = readFileSync(store.ociLogPath(id), 'utf8');
            const entry = JSON.parse(log);
            assert.equal(entry.level, 'error');
            assert.ok(r.stderr.includes(`: ${entry.msg}: `), `podman did not show the oci-log msg ${JSON.stringify(entry.msg)}: ${r.stderr}`);
          }
        } finally {
          await podman.run(['rm', '--force', name]);
        }
        assertRemoved('missing');
      });

      it('--memory sets the memory limit seen inside', async () => {
        const r = await runRm('memory', ['--memory', '64m'], ['cat', MEMORY_MAX]);
        assert.equal(r.code, 0, describeResult(r));
        assert.equal(r.stdout, '67108864\n', describeResult(r));
      });

      it('--pids-limit sets pids.max seen inside', async () => {
        const r = await runRm('pids', ['--pids-limit', '100'], ['cat', PIDS_MAX]);
        assert.equal(r.code, 0, describeResult(r));
        assert.equal(r.stdout, '100\n', describeResult(r));
      });

      it('--cpus sets the CFS quota seen inside', async () => {
        const r = await runRm('cpus', ['--cpus', '0.5'], ['cat', ...CPU_FILES]);
        assert.equal(r.code, 0, describeResult(r));
        assert.equal(r.stdout, cpuSeen(50000, 100000), describeResult(r));
      });

      it('--user 1000 runs as uid 1000 without effective capabilities', async () => {
        const r = await runRm('user', ['--user', '1000'], ['sh', '-c', 'id -u; id -g; grep CapEff /proc/self/status']);
        assert.equal(r.code, 0, describeResult(r));
        assert.match(r.stdout, /^1000\n0\nCapEff:\s+0000000000000000\n$/);
      });

      it('-e sets the environment', async () => {
        const r = await runRm('env', ['-e', 'FOO=bar'], ['sh', '-c', 'echo "$FOO"']);
        assert.equal(r.code, 0, describeResult(r));
        assert.equal(r.stdout, 'bar\n', describeResult(r));
      });

      it('--network none leaves only the loopback interface', async () => {
        const r = await runRm('netnone', ['--network', 'none'], ['cat', '/proc/net/dev']);
        assert.equal(r.code, 0, describeResult(r));
        const ifaces = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]);
        assert.deepEqual(ifaces, ['lo']);
      });

      it('run -it gets a pty from the console socket', async () => {
        // The sleep avoids a conmon race that can drop the output of an instant exit.
        const r = await podman.pty(['run', '--rm', '-it', ...podman.runFlags('tty'), BUSYBOX_REF,
          'sh', '-c', 'tty; sleep 0.5; exit 3']);
        assert.equal(r.code, 3, describeResult(r));
        assert.match(r.stdout, /\/dev\/pts\/\d+/);
        assertRemoved('tty');
      });

      describe('detached container', () => {
        const name = `det-${label}-${process.pid}`;

        it('run -d starts it', async () => {
          const r = await podman.run(['run', '-d', '--name', name, ...podman.runFlags('det'), BUSYBOX_REF,
            'sh', '-c', 'trap "exit 43" TERM; while :; do sleep 0.2; done']);
          assert.equal(r.code, 0, describeResult(r));
          const state = await podman.ok(['inspect', '--format', '{{.State.Status}}', name]);
          assert.equal(state.stdout, 'running\n');
        });

        it('exec passes output and the exit code through', async () => {
          const r = await podman.run(['exec', name, 'sh', '-c', 'echo from exec; exit 7']);
          assert.equal(r.code, 7, describeResult(r));
          assert.equal(r.stdout, 'from exec\n', describeResult(r));
        });

        it('exec --user and --env apply to the exec process', async () => {
          const r = await podman.run(['exec', '--user', '1000', '--env', 'FOO=bar', name, 'sh', '-c', 'id -u; echo "$FOO"']);
          assert.equal(r.code, 0, describeResult(r));
          assert.equal(r.stdout, '1000\nbar\n', describeResult(r));
        });

        it('exec of a missing binary exits 127', async () => {
          const r = await podman.run(['exec', name, '/nonexistent']);
          assert.equal(r.code, 127, describeResult(r));
        });

        it('exec -it gets a pty', async () => {
          const r = await podman.pty(['exec', '-it', name, 'sh', '-c', 'tty; sleep 0.5; exit 4']);
          assert.equal(r.code, 4, describeResult(r));
          assert.match(r.stdout, /\/dev\/pts\/\d+/);
        });

        it('pause freezes and unpause thaws it', async () => {
          const id = readFileSync(podman.cidFile('det'), 'utf8').trim();
          const paths = pathsOf(`/${store.cgroupParent}/libpod-${id}`);
          await podman.ok(['pause', name]);
          assert.equal((await podman.ok(['inspect', '--format', '{{.State.Status}}', name])).stdout, 'paused\n');
          assert.equal(frozen(paths), true);
          await podman.ok(['unpause', name]);
          assert.equal((await podman.ok(['inspect', '--format', '{{.State.Status}}', name])).stdout, 'running\n');
          assert.equal(frozen(paths), false);
        });

        it('update changes the limits seen inside', async () => {
          await podman.ok(['update', '--memory', '128m', '--cpus', '0.25', name]);
          const r = await podman.ok(['exec', name, 'cat', MEMORY_MAX, ...CPU_FILES]);
          assert.equal(r.stdout, `134217728\n${cpuSeen(25000, 100000)}`, describeResult(r));
        });

        it('stop delivers SIGTERM', async () => {
          await podman.ok(['stop', '--time', '10', name]);
          const r = await podman.ok(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
          assert.equal(r.stdout, 'exited 43\n', describeResult(r));
        });

        it('rm removes it', async () => {
          await podman.ok(['rm', name]);
          const r = await podman.ok(['ps', '--all', '--quiet', '--filter', `name=${name}`]);
          assert.equal(r.stdout, '', describeResult(r));
          assertRemoved('det');
        });
      });
    });
  }
}
