// The nsexec protocol (nsexec/PROTOCOL.md) against its schemas in schemas/rocker:
// every kind of init message the runtime builds (create and exec, from the default
// spec and from each good config of the runtime-spec suite), and the events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInit, execInit } from '../../dist/runtime/launch/init-message.js';
import { joinTargets } from '../../dist/runtime/cgroups/join-targets.js';
import { defaultSpec } from '../../dist/runtime/spec/default-spec.js';
import { validateNsexecEvent, validateNsexecInit } from '../../dist/schemas/validators.js';
import { assertProtocol } from '../nsexec/harness.mjs';

const goodDir = new URL('../../schemas/runtime-spec/test/config/good/', import.meta.url).pathname;
const goodConfigs = readdirSync(goodDir)
  .filter((n) => !/^(freebsd|zos|windows|solaris|vm)-/.test(n))
  .map((n) => [n, JSON.parse(readFileSync(join(goodDir, n), 'utf8'))])
  // create refuses a config without a process (runtime/spec/load.ts) before any init is built.
  .filter(([, config]) => config.process);

// A hybrid host's paths and a pure cgroup2 host's, as state.json records them.
const HYBRID = { memory: '/sys/fs/cgroup/memory/rocker/c', cpu: '/sys/fs/cgroup/cpu,cpuacct/rocker/c', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/rocker/c', '': '/sys/fs/cgroup/unified/rocker/c' };
const UNIFIED = { '': '/sys/fs/cgroup/rocker/c' };

const createOptions = (config, over = {}) => ({
  config, bundle: '/run/b', rootfs: '/run/b/rootfs', execFifo: '/run/rocker/c/exec.fifo', foreground: false,
  startOnContinue: false, preserveFds: 0, noPivot: false, noNewKeyring: false, cgroups: joinTargets(HYBRID), ...over,
});

/** The ways `create` and `run` call createInit (runtime/launch/create.ts). */
const CREATE_VARIANTS = {
  'create': {},
  'create --console-socket, --preserve-fds, --no-pivot, --no-new-keyring': { consoleSocket: '/run/console.sock', preserveFds: 2, noPivot: true, noNewKeyring: true },
  'run (foreground, continue to start)': { foreground: true, execFifo: undefined, startOnContinue: true },
  'run -d': { execFifo: undefined },
  'on a pure cgroup2 host': { cgroups: joinTargets(UNIFIED) },
};

test('create: every init message built from the default spec and the spec suite\'s good configs is valid', () => {
  const configs = [['default spec', defaultSpec()], ['rootless default spec', defaultSpec({ rootless: true })], ...goodConfigs];
  assert.ok(goodConfigs.length > 0, "the spec suite has good linux configs with a process");
  for (const [name, config] of configs) {
    for (const [variant, over] of Object.entries(CREATE_VARIANTS)) {
      assertProtocol(validateNsexecInit, createInit(createOptions(config, over)), `${name}, ${variant}`);
    }
  }
});

test('create: what the init message derives from the config', () => {
  const config = defaultSpec();
  config.process.terminal = true;
  config.domainname = 'example.org';
  config.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind'] });
  config.linux.namespaces.push({ type: 'cgroup' });
  config.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' };
  const relay = createInit(createOptions(config, { foreground: true }));
  assertProtocol(validateNsexecInit, relay, 'terminal relay');
  assert.equal(relay.relayTerminal, true, 'a foreground terminal without a console socket is relayed');
  assert.equal(relay.domainname, 'example.org');
  assert.equal(relay.mounts.at(-1).source, '/run/b/data', 'bind sources are made absolute against the bundle');
  assert.equal(relay.cgroupNamespaceAfterJoin, true);
  assert.equal(relay.createRuntimeSync, true, 'a seccomp listener needs the state');
  const plain = createInit(createOptions(defaultSpec()));
  assert.equal(plain.createRuntimeSync, false, 'no hook, no listener: no createRuntime round trip');
  assert.equal(plain.relayTerminal, undefined);
  assert.deepEqual(plain.cgroups, { v1: ['/sys/fs/cgroup/memory/rocker/c', '/sys/fs/cgroup/cpu,cpuacct/rocker/c'], unified: '/sys/fs/cgroup/unified/rocker/c' });
});

test('exec: every init message exec builds is valid', () => {
  const config = defaultSpec();
  config.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  const base = { process: { ...config.process, terminal: false }, joinPid: 4242, linux: config.linux, foreground: true, preserveFds: 0 };
  const variants = {
    'exec': {},
    'exec -d --console-socket (terminal)': { foreground: false, consoleSocket: '/run/c.sock', process: { ...base.process, terminal: true } },
    'exec -t (relay)': { process: { ...base.process, terminal: true } },
    'exec with cgroups, --cgroup, state and seccompCache': {
      cgroups: joinTargets(HYBRID, { memory: 'sub' }), state: JSON.stringify({ ociVersion: '1.3.0', id: 'c', status: 'running', pid: 4242, bundle: '/run/b' }),
      seccompCache: '/run/rocker/c/seccomp.bpf', preserveFds: 3,
    },
    'exec on a pure cgroup2 host': { cgroups: joinTargets(UNIFIED, { '': 'sub' }) },
    'exec into a config without linux': { linux: undefined },
  };
  for (const [variant, over] of Object.entries(variants)) assertProtocol(validateNsexecInit, execInit({ ...base, ...over }), variant);
  assert.throws(() => joinTargets(HYBRID, { memory: '../escape' }), /is not a sub cgroup path/);
});

test('the init schema refuses what nsexec would not understand', () => {
  const good = createInit(createOptions(defaultSpec()));
  for (const [what, bad] of [
    ['another version', { ...good, version: 2 }],
    ['an unknown mode', { ...good, mode: 'restore' }],
    ['no process', { ...good, process: undefined }],
    ['an unknown cgroups key', { ...good, cgroups: { v2: '/sys/fs/cgroup/x' } }],
    ['a negative preserveFds', { ...good, preserveFds: -1 }],
  ]) {
    assert.throws(() => assertProtocol(validateNsexecInit, bad, what), /init message|against schemas\/rocker/, what);
  }
});

test('events: what nsexec sends is valid; malformed ones are not', () => {
  for (const ev of [
    { type: 'pid', pid: 12345 },
    { type: 'sync', point: 'createRuntime' },
    { type: 'created' },
    { type: 'running' },
    { type: 'exit', status: 137, signal: 9 },
    { type: 'exit', status: 0 },
    { type: 'error', stage: 'mount', syscall: 'mount', errno: 2, errnoName: 'ENOENT', path: '/data', message: 'mount /data: no such file or directory' },
    { type: 'error', stage: 'protocol', message: 'unsupported protocol version 2 (nsexec speaks 1)' },
  ]) assertProtocol(validateNsexecEvent, ev, ev.type);
  for (const ev of [
    { type: 'pid', pid: 0 },
    { type: 'pid' },
    { type: 'sync', point: 'prestart' },
    { type: 'exit' },
    { type: 'error', stage: 'mount' },
    { type: 'started' },
    { pid: 1 },
  ]) assert.equal(validateNsexecEvent(ev), false, JSON.stringify(ev));
});
