// Config generation: the runtime's default spec (root and rootless), and a bundle's
// config.json as rocker-image builds it (image config, run flags, network pieces),
// each checked against the vendored runtime-spec schema. Files only in temp dirs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../../dist/runtime/spec/default-spec.js';
import { applyImageConfig } from '../../dist/imagetool/bundle/image-config.js';
import { applyRunOptions } from '../../dist/imagetool/bundle/run-options.js';
import { applyNetwork } from '../../dist/imagetool/network/bundle-config.js';
import { validateConfig, validateImageConfig } from '../../dist/schemas/validators.js';

const dir = mkdtempSync(join(tmpdir(), 'rocker-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function assertConfig(config) {
  assert.equal(validateConfig(JSON.parse(JSON.stringify(config))), true, JSON.stringify(validateConfig.errors));
}

const IMAGE = {
  created: '2024-01-02T03:04:05Z',
  architecture: 'amd64',
  os: 'linux',
  config: {
    User: 'app',
    Env: ['PATH=/app/bin:/usr/bin', 'MODE=image'],
    Entrypoint: ['/app/bin/server'],
    Cmd: ['--port', '80'],
    WorkingDir: 'srv',
    ExposedPorts: { '80/tcp': {} },
    Labels: { 'org.opencontainers.image.created': 'label wins' },
    StopSignal: 'SIGQUIT',
  },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] },
};

test('the default spec is valid as root and rootless', () => {
  const root = defaultSpec();
  assertConfig(root);
  assert.deepEqual(root.linux.namespaces.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount']);
  assert.deepEqual(root.linux.resources.devices, [{ allow: false, access: 'rwm' }]);
  const rootless = defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1001 });
  assertConfig(rootless);
  const types = rootless.linux.namespaces.map((n) => n.type);
  assert.ok(types.includes('user') && !types.includes('network'));
  assert.deepEqual(rootless.linux.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.deepEqual(rootless.linux.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
  assert.equal(rootless.mounts.find((m) => m.destination === '/sys').type, 'none', 'sysfs bound, not mounted');
});

test('an image config and the run flags make a valid config.json, as conversion.md says', async () => {
  assert.equal(validateImageConfig(IMAGE), true, JSON.stringify(validateImageConfig.errors));
  const spec = defaultSpec();
  applyImageConfig(spec, IMAGE);
  await applyRunOptions(spec, {
    env: ['MODE=flag', 'EXTRA=1'], memory: '64m', cpus: 1.5, cpuShares: 512, cpusetCpus: '0', pidsLimit: 100,
    hostname: 'web', readOnly: true, tty: true, volumes: [`${dir}:/data:ro`],
  });
  assertConfig(spec);
  const p = spec.process;
  assert.deepEqual(p.args, ['/app/bin/server', '--port', '80']);
  assert.equal(p.cwd, '/srv');
  assert.deepEqual(p.env, ['PATH=/app/bin:/usr/bin', 'MODE=flag', 'TERM=xterm', 'EXTRA=1']);
  assert.equal(p.terminal, true);
  assert.equal(spec.hostname, 'web');
  assert.equal(spec.root.readonly, true);
  assert.deepEqual(spec.linux.resources.memory, { limit: 64 * 1024 ** 2 });
  assert.deepEqual(spec.linux.resources.cpu, { period: 100000, quota: 150000, shares: 512, cpus: '0' });
  assert.deepEqual(spec.linux.resources.pids, { limit: 100 });
  assert.deepEqual(spec.mounts.at(-1), { destination: '/data', type: 'bind', source: dir, options: ['rbind', 'ro'] });
  assert.equal(spec.annotations['org.opencontainers.image.created'], 'label wins');
  assert.equal(spec.annotations['org.opencontainers.image.stopSignal'], 'SIGQUIT');
  assert.equal(spec.annotations['org.opencontainers.image.exposedPorts'], '80/tcp');
  const cmd = defaultSpec();
  applyImageConfig(cmd, IMAGE, ['--debug']);
  assert.deepEqual(cmd.process.args, ['/app/bin/server', '--debug'], 'arguments after -- replace Cmd only');
  assert.throws(() => applyImageConfig(defaultSpec(), { ...IMAGE, config: {} }), /no Entrypoint or Cmd/);
});

test('network pieces keep the config valid: none, and a bridge with published ports', async () => {
  const dirs = { configDir: join(dir, 'net-config'), stateDir: join(dir, 'net-state'), cniPath: '/usr/lib/cni' };
  const none = defaultSpec();
  await applyNetwork(none, { bundleDir: join(dir, 'b-none'), network: 'none', dns: ['192.0.2.53'], ...dirs });
  assertConfig(none);
  assert.equal(none.linux.namespaces.filter((n) => n.type === 'network').length, 1);
  assert.deepEqual(none.hooks, {});
  const bridge = defaultSpec();
  bridge.hostname = undefined;
  await applyNetwork(bridge, { bundleDir: join(dir, 'b-bridge'), publish: ['127.0.0.1:8080:80', '5353:53/udp'], ...dirs });
  assertConfig(bridge);
  assert.equal(bridge.hostname, 'b-bridge', 'the bundle directory name');
  const [attach] = bridge.hooks.createRuntime;
  assert.ok(attach.path.startsWith('/') && attach.args.includes('--publish'), JSON.stringify(attach));
  assert.deepEqual(bridge.hooks.poststop.map((h) => h.args[1]), ['detach']);
  for (const f of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) {
    assert.equal(bridge.mounts.filter((m) => m.destination === f).length, 1, f);
  }
  const host = defaultSpec();
  await assert.rejects(applyNetwork(host, { bundleDir: join(dir, 'b-host'), network: 'host', publish: ['80:80'], ...dirs }), /need a bridge network/);
});
