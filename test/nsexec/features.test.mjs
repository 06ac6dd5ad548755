// nsexec: terminal over a console socket, user namespaces, hooks, sysctl, seccomp, noPivot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layout } from '../cgroups/layout.mjs';
import { makeRootfs, initMessage, drive, eventOf, mountsUnder, buildConsoleReceiver, listenConsole } from './harness.mjs';

let fx;
let recv;

before(() => {
  fx = makeRootfs();
  recv = buildConsoleReceiver(fx.dir);
});
after(() => {
  assert.deepEqual(mountsUnder(fx.dir), []);
  fx.cleanup();
});

test('terminal: the pty master goes to the console socket, the slave is the controlling tty', async () => {
  const sockPath = join(fx.dir, 'console.sock');
  const consoleClient = await listenConsole(recv, sockPath);
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'tty; [ -t 0 ] && echo stdin-tty; stty size; ls -l /dev/console | cut -c1'], {
    consoleSocket: sockPath, process: { terminal: true, consoleSize: { height: 33, width: 101 } },
  }));
  await consoleClient.closed;
  const out = consoleClient.output();
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  assert.equal(r.stdout, '', 'nothing goes to the original stdout');
  assert.match(out, /^fds=1$/m);
  assert.match(out, /^\/dev\/pts\/0\r?$/m);
  assert.match(out, /^stdin-tty\r?$/m);
  assert.match(out, /^33 101\r?$/m);
  assert.match(out, /^c\r?$/m);
});

test('relayTerminal: the foreground parent copies between its stdio and the pty', async () => {
  const init = initMessage(fx.rootfs, ['sh', '-c', 'tty; read x; echo got=$x; cat; echo eof'], { relayTerminal: true, process: { terminal: true } });
  // the end of the relayed input reaches the program as the terminal's EOF
  const r = await drive(init, { stdio: ['pipe', 'pipe', 'pipe'], onSpawn: (child) => child.stdin.end('hello\n') });
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events) + r.stderr);
  assert.match(r.stdout, /^\/dev\/pts\/0\r$/m);
  assert.match(r.stdout, /^got=hello\r$/m);
  assert.match(r.stdout, /^eof\r$/m);
});

/** Drives a relayed terminal running argv and sends `msg` on the socket once nsexec reports `running`. */
function driveRelayed(argv, msg) {
  const init = initMessage(fx.rootfs, argv, { relayTerminal: true, process: { terminal: true } });
  let sock;
  return drive(init, {
    onSpawn: (child) => (sock = child.stdio[3]),
    onEvent: (ev) => ev.type === 'running' && sock.write(JSON.stringify(msg) + '\n'),
  });
}

test('relayTerminal: a resize message after running sets the pty\'s size', { timeout: 60_000 }, async () => {
  const wait = 'i=0; while [ $i -lt 100 ] && [ "$(stty size)" != "21 67" ]; do sleep 0.1; i=$((i+1)); done; stty size';
  const r = await driveRelayed(['sh', '-c', wait], { type: 'resize', rows: 21, cols: 67 });
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events) + r.stderr);
  assert.match(r.stdout, /^21 67\r$/m, r.stdout);
});

test('relayTerminal: any other message after running is a protocol error that ends the process', { timeout: 60_000 }, async () => {
  for (const [msg, why] of [
    [{ type: 'continue' }, /expected a resize message/],
    [{ type: 'resize', rows: 70000, cols: 80 }, /rows must be an integer from 0 to 65535/],
  ]) {
    const r = await driveRelayed(['sleep', '20'], msg);
    const err = eventOf(r, 'error');
    assert.equal(err?.stage, 'protocol', JSON.stringify(r.events));
    assert.match(err.message, why);
    assert.equal(eventOf(r, 'exit'), undefined, JSON.stringify(r.events));
    assert.equal(r.code, 1);
  }
});

test('user namespace: maps written by the parent, devices bound from the host', async () => {
  const ufx = makeRootfs('rocker-nsexec-userns-');
  try {
    execFileSync('chown', ['-R', '100000:100000', ufx.dir]);
    const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const init = initMessage(ufx.rootfs, ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %t:%T /dev/null; touch /ok && echo wrote'], {
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'user' }],
        uidMappings: map, gidMappings: map, readonlyPaths: [], maskedPaths: [] },
    });
    init.mounts = init.mounts.filter((m) => m.destination !== '/sys' && m.destination !== '/dev/mqueue');
    const r = await drive(init);
    assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events) + r.stderr);
    assert.match(r.stdout, /^\s+0\s+100000\s+65536\n\s+0\s+100000\s+65536\n0\n1:3\nwrote\n$/);
    // the console socket (root's, 0755) is reached by nsexec as the host's root
    const sockPath = join(ufx.dir, 'console.sock');
    const consoleClient = await listenConsole(recv, sockPath);
    const t = await drive({ ...init, consoleSocket: sockPath, process: { ...init.process, terminal: true, args: ['tty'] } });
    await consoleClient.closed;
    assert.equal(eventOf(t, 'exit')?.status, 0, JSON.stringify(t.events));
    assert.match(consoleClient.output(), /^\/dev\/pts\/0\r$/m);
    assert.deepEqual(mountsUnder(ufx.dir), []);
  } finally {
    ufx.cleanup();
  }
});

test('hooks: createContainer before pivot_root and startContainer after it, with the state on stdin', async () => {
  const log = join(fx.dir, 'hooks.log');
  const hook = join(fx.dir, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\necho "$1 $(cat) $(readlink /proc/self/ns/uts)" >> ${log}\n`);
  chmodSync(hook, 0o755);
  // startContainer runs in the container: give it the same script inside the rootfs
  writeFileSync(join(fx.rootfs, 'hook.sh'), `#!/bin/sh\necho "$1 $(cat)" > /tmp/start.log\n`);
  chmodSync(join(fx.rootfs, 'hook.sh'), 0o755);
  const init = initMessage(fx.rootfs, ['sh', '-c', 'cat /tmp/start.log; readlink /proc/self/ns/uts'], {
    hooks: {
      createContainer: [{ path: hook, args: ['hook.sh', 'create'] }],
      startContainer: [{ path: '/hook.sh', args: ['hook.sh', 'start'] }],
    },
  });
  const r = await drive(init, { state: '{"id":"x"}' });
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  const [startLine, uts] = r.stdout.trim().split('\n');
  assert.equal(startLine, 'start {"id":"x"}');
  assert.equal(readFileSync(log, 'utf8').trim(), `create {"id":"x"} ${uts}`);
  const failing = initMessage(fx.rootfs, ['true'], { hooks: { createContainer: [{ path: '/bin/false' }] } });
  const f = await drive(failing);
  assert.equal(eventOf(f, 'error')?.message, 'createContainer hook #0 (/bin/false): error running hook: exit status 1, stdout: , stderr: ');
});

test('sysctl, domainname and noPivot', async () => {
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'cat /proc/sys/kernel/shmmni /proc/sys/kernel/domainname; ls /proc/self/root/'], {
    noPivot: true, domainname: 'example.org', linux: { sysctl: { 'kernel.shmmni': '1234' } },
  }));
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  assert.match(r.stdout, /^1234\nexample.org\n/);
  assert.match(r.stdout, /^hook.sh$/m, 'the root is the rootfs');
  // keys outside the container's namespaces, or a hostname without uts, would change the host
  const host = await drive(initMessage(fx.rootfs, ['true'], { linux: { sysctl: { 'vm.swappiness': '1' } } }));
  assert.equal(eventOf(host, 'error')?.message, 'sysctl "vm.swappiness" is not in a separate kernel namespace');
  const noUts = await drive(initMessage(fx.rootfs, ['true'], { linux: { namespaces: [{ type: 'mount' }] } }));
  assert.equal(eventOf(noUts, 'error')?.message, 'unable to set hostname without a private UTS namespace');
});

test('seccomp is loaded last: the filter acts on the user program', async () => {
  const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'mkdir /tmp/d; echo status=$?; grep Seccomp: /proc/self/status'], {
    linux: { seccomp },
  }));
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  assert.match(r.stdout, /^status=1$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
});

test('a cgroup mount shows the container\'s own cgroups, read-only', async () => {
  const init = initMessage(fx.rootfs, ['sh', '-c', 'ls /sys/fs/cgroup; grep " /sys/fs/cgroup" /proc/self/mounts; touch /sys/fs/cgroup/x; echo touch=$?'], {
    hostname: undefined, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'cgroup' }] },
  });
  init.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
  const r = await drive(init);
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  if (layout.mode === 'unified') {
    // pure cgroup v2: cgroup2 itself, rooted at the container's cgroup by its namespace
    assert.match(r.stdout, /^cgroup2? \/sys\/fs\/cgroup cgroup2 ro,/m);
    assert.match(r.stdout, /^cgroup\.procs$/m);
  } else {
    // v1 or hybrid: a tmpfs with a bind of the container's own cgroup per hierarchy
    assert.match(r.stdout, /^tmpfs \/sys\/fs\/cgroup tmpfs ro,/m);
    if (layout.v1.has('memory')) assert.match(r.stdout, /^memory$/m);
  }
  assert.match(r.stdout, /^touch=1$/m);
});

test('podman-style: bind files with rprivate, a bound /dev/shm, uid 1000 with only a bounding set and seccomp without no_new_privs', async () => {
  const hosts = join(fx.dir, 'hosts');
  const shm = join(fx.dir, 'shm');
  writeFileSync(hosts, '127.0.0.1 podman-style\n');
  execFileSync('mkdir', ['-p', shm]);
  const init = initMessage(fx.rootfs, ['sh', '-c', 'cat /etc/hosts; grep -E " /dev/shm | /etc/hosts " /proc/self/mounts; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; mkdir /tmp/x; echo mkdir=$?; id'], {
    process: {
      user: { uid: 1000, gid: 0, umask: 18, additionalGids: [0] }, noNewPrivileges: false,
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'] },
    },
    linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } },
  });
  init.mounts.push(
    { destination: '/etc/hosts', type: 'bind', source: hosts, options: ['bind', 'rprivate'] },
    { destination: '/dev/shm', type: 'bind', source: shm, options: ['bind', 'rprivate', 'nosuid', 'noexec', 'nodev'] },
  );
  init.mounts = init.mounts.filter((m, i, all) => !(m.destination === '/dev/shm' && m.type === 'tmpfs' && all.some((o) => o.destination === '/dev/shm' && o.type === 'bind')));
  const r = await drive(init);
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events) + r.stderr);
  assert.match(r.stdout, /^127.0.0.1 podman-style$/m);
  assert.match(r.stdout, / \/dev\/shm \S+ rw,nosuid,nodev,noexec/m);
  assert.match(r.stdout, /^CapEff:\s+0{16}$/m);
  assert.match(r.stdout, /^CapBnd:\s+0{14}21$/m);
  assert.match(r.stdout, /^NoNewPrivs:\s+0$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^mkdir=1$/m);
  assert.match(r.stdout, /^uid=1000 gid=0/m);
});

test('a new time namespace gets its offsets before the container runs', async () => {
  const r = await drive(initMessage(fx.rootfs, ['cat', '/proc/uptime'], {
    hostname: undefined,
    linux: { namespaces: [{ type: 'mount' }, { type: 'time' }], timeOffsets: { boottime: { secs: 864000, nanosecs: 0 } } },
  }));
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  assert.ok(parseFloat(r.stdout) >= 864000, r.stdout);
});

test('ioPriority and scheduler apply to the user program', async () => {
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'ionice; cut -d" " -f19,41 /proc/self/stat'], {
    process: { ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 }, scheduler: { policy: 'SCHED_BATCH', nice: 7 } },
  }));
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events));
  // stat field 19 is the nice value, 41 the policy (3 = SCHED_BATCH)
  assert.equal(r.stdout, 'best-effort: prio 6\n7 3\n');
});

/** podman's default profile (containers-common format) flattened the way podman
 *  does for an x86_64 process without extra capabilities. */
function podmanProfile() {
  const d = JSON.parse(readFileSync('/usr/share/containers/seccomp.json', 'utf8'));
  const x86 = d.archMap.find((a) => a.architecture === 'SCMP_ARCH_X86_64');
  const syscalls = d.syscalls.filter((s) => !s.includes?.caps?.length && !s.includes?.minKernel &&
    (!s.includes?.arches?.length || s.includes.arches.some((a) => a === 'amd64' || a === 'x86_64')) &&
    !s.excludes?.arches?.some((a) => a === 'amd64' || a === 'x86_64'))
    .map(({ names, action, args, errnoRet }) => ({ names, action, ...(args ? { args } : {}), ...(errnoRet ? { errnoRet } : {}) }));
  return { defaultAction: d.defaultAction, defaultErrnoRet: d.defaultErrnoRet, architectures: [x86.architecture, ...x86.subArchitectures], syscalls };
}

test('podman\'s default seccomp profile (containers-common, installed with podman), loaded before the switch to uid 1000, lets nsexec finish', async () => {
  const fifo = join(fx.dir, 'podman.fifo');
  let released;
  const r = await drive(initMessage(fx.rootfs, ['sh', '-c', 'id -u; grep Seccomp: /proc/self/status'], {
    execFifo: fifo,
    process: { user: { uid: 1000, gid: 0, additionalGids: [0] }, noNewPrivileges: false, capabilities: { bounding: ['CAP_KILL'] } },
    linux: { seccomp: podmanProfile() },
  }), { onEvent: (ev) => { if (ev.type === 'created') released = readFile(fifo, 'utf8'); } });
  assert.equal(await released, '0');
  assert.equal(eventOf(r, 'exit')?.status, 0, JSON.stringify(r.events) + r.stderr);
  // every step nsexec takes after the filter (user switch, capset, created, exec fifo, exec) passed it
  assert.match(r.stdout, /^1000\nSeccomp:\s+2\n$/);
});
