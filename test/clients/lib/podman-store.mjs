// A private podman for one suite: graph root, run root, libpod tmp dir, containers.conf
// and cgroup parent all under a temp dir, with the busybox archive loaded once.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { run, runOk, runWithPty } from './proc.mjs';
import { unmountUnder, pidsWithCmdline, killPids, removeCgroupTree } from './cleanup.mjs';
import { uniqueName } from './runtimes.mjs';

// conmon hands the runtime --log-format=json --log only for these basenames
// (containers.conf runtime_supports_json); any other name means errors come as stderr text.
const JSON_LOG_NAMES = ['crun', 'runc', 'kata', 'runsc', 'krun'];

export class PodmanStore {
  constructor(dir) {
    this.dir = dir;
    this.cgroupParent = uniqueName('rocker-clients-podman');
    this.conf = join(dir, 'containers.conf');
  }

  static async create(archive) {
    const store = new PodmanStore(mkdtempSync(join(tmpdir(), 'rocker-clients-podman-')));
    for (const d of ['tmp', 'load-tmp', 'cidfiles']) mkdirSync(join(store.dir, d));
    // Rootful podman asks for nofile/nproc 1048576, above this machine's hard limit.
    writeFileSync(store.conf, [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      'netns = "none"',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${store.dir}/tmp"`,
      '[network]',
      // The same backend whether or not netavark (a recommends) is installed; --network
      // none never calls it.
      'network_backend = "cni"',
      `network_config_dir = "${store.dir}/networks"`,
      '',
    ].join('\n'));
    try {
      await runOk('podman', [...store.globalFlags(), 'load', '--quiet', '--input', archive], { env: store.env() });
    } catch (e) {
      await store.destroy();
      throw e;
    }
    return store;
  }

  env() {
    return { ...process.env, CONTAINERS_CONF: this.conf, TMPDIR: join(this.dir, 'load-tmp') };
  }

  /** Where conmon points the runtime's --log for a container's create (JSON mode only). */
  ociLogPath(id) {
    return join(this.dir, 'runroot', 'overlay-containers', id, 'userdata', 'oci-log');
  }

  globalFlags() {
    return ['--root', join(this.dir, 'root'), '--runroot', join(this.dir, 'runroot'), '--storage-driver', 'overlay'];
  }

  /**
   * The runtime podman is given for one log mode: a small exec wrapper whose basename
   * selects the mode (runc: JSON --log flags; anything unlisted: stderr text) and which
   * pins the runtime's state root to this store. podman 4.3 drops --runtime-flag from
   * `delete --force`, so the root cannot be passed from podman's side; the wrapper execs,
   * so the runtime keeps the pid, fds and environment conmon and podman gave it.
   * @param {{name: string, path: string}} runtime @param {'json'|'text'} mode
   */
  client(runtime, mode) {
    const label = `${runtime.name}-${mode}`;
    const stateRoot = join(this.dir, 'runtime-state', label);
    const name = mode === 'json' ? 'runc' : `${runtime.name}-runtime`;
    if (JSON_LOG_NAMES.includes(name) !== (mode === 'json')) throw new Error(`runtime name ${name} does not select ${mode} logging`);
    const wrapperDir = join(this.dir, 'runtimes', label);
    const wrapper = join(wrapperDir, name);
    mkdirSync(wrapperDir, { recursive: true });
    writeFileSync(wrapper, `#!/bin/sh\nexec '${runtime.path}' --root '${stateRoot}' "$@"\n`, { mode: 0o755 });
    const argv = (args) => [...this.globalFlags(), '--runtime', wrapper, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args];
    const cidFile = (container) => join(this.dir, 'cidfiles', `${label}-${container}`);
    return {
      stateRoot,
      run: (args, opts) => run('podman', argv(args), { env: this.env(), ...opts }),
      ok: (args, opts) => runOk('podman', argv(args), { env: this.env(), ...opts }),
      pty: (args, opts) => runWithPty(['podman', ...argv(args)], { env: this.env(), ...opts }),
      /** `podman run` flags every container of the suite gets: its cgroup parent and a cid file. */
      runFlags: (container) => ['--cgroup-parent', `/${this.cgroupParent}`, '--cidfile', cidFile(container)],
      cidFile,
    };
  }

  async destroy() {
    // Containers were removed by their own runtime's client; this drops images and layers.
    await run('podman', [...this.globalFlags(), 'system', 'reset', '--force'], { env: this.env() });
    killPids(pidsWithCmdline(this.dir));
    await removeCgroupTree(`/${this.cgroupParent}`);
    await unmountUnder(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
