// rocker-image bundle IMAGE DIR [-- args...]: an OCI runtime bundle from a stored image.
import { resolve } from 'node:path';
import type { BundleOptions } from '../../bundle/bundle.js';
import type { DefaultsKind } from '../../bundle/engine-defaults.js';

// Here, not imported: main.ts loads every command module, and the engine defaults carry the seccomp table.
const DEFAULTS_KINDS: DefaultsKind[] = ['engine', 'runc'];
import type { ImageCommand } from '../context.js';

const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String));
const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));
const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/**
 * --network/--publish/--ip/--dns: the network module adds its namespace, hooks
 * and /etc mounts. Without any of them a bundle keeps the default spec's own
 * network namespace (loopback only) and needs no CNI.
 */
async function networkOption(a: Record<string, unknown>): Promise<BundleOptions['network']> {
  if (a.network === undefined && a.publish === undefined && a.ip === undefined && a.dns === undefined) return undefined;
  const { applyNetwork } = await import('../../network/index.js');
  return (spec, bundleDir) =>
    applyNetwork(spec, { bundleDir, network: str(a.network), publish: list(a.publish), ip: str(a.ip), dns: list(a.dns) });
}

const command: ImageCommand = {
  command: 'bundle <image> <dir> [args..]',
  describe: 'make an OCI runtime bundle (config.json + rootfs) from an image; arguments after -- replace its Cmd',
  builder: (y) =>
    y
      .option('flat', { type: 'boolean', default: false, describe: 'unpack into a plain rootfs directory instead of an overlay mount' })
      // Repeatable, one value each (no `array: true`: it would swallow IMAGE and DIR).
      .option('env', { alias: 'e', type: 'string', describe: 'set an environment variable (KEY=VALUE, or KEY to copy it) (repeatable)' })
      .option('volume', { alias: 'v', type: 'string', describe: 'bind mount HOST:CONTAINER[:ro] (repeatable)' })
      .option('memory', { alias: 'm', type: 'string', describe: 'memory limit (e.g. 512m, 1g)' })
      .option('cpus', { type: 'number', describe: 'number of CPUs (CFS quota)' })
      .option('cpu-shares', { type: 'number', describe: 'CPU shares (relative weight)' })
      .option('cpuset-cpus', { type: 'string', describe: 'CPUs allowed (e.g. 0-1)' })
      .option('pids-limit', { type: 'number', describe: 'maximum number of processes' })
      .option('user', { alias: 'u', type: 'string', describe: 'user[:group] or uid[:gid] (names from the image)' })
      .option('workdir', { alias: 'w', type: 'string', describe: 'working directory' })
      .option('hostname', { type: 'string', describe: 'container hostname' })
      .option('read-only', { type: 'boolean', describe: 'mount the rootfs read-only' })
      .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a terminal' })
      .option('network', { type: 'string', describe: 'network to join: a network name, "none" or "host" (any network flag enables networking)' })
      .option('publish', { alias: 'p', type: 'string', describe: 'publish a port: [hostIP:]hostPort:containerPort[/tcp|udp] (repeatable)' })
      .option('ip', { type: 'string', describe: 'the container address on its network' })
      .option('dns', { type: 'string', describe: 'DNS server for /etc/resolv.conf (repeatable)' })
      .option('defaults', { type: 'string', choices: DEFAULTS_KINDS, default: 'engine', describe: "engine: the capabilities, seccomp profile and /proc masks docker and podman give; runc: `runc spec`'s minimal ones" })
      .option('cap-add', { type: 'string', describe: 'add a capability (NET_ADMIN, ALL) (repeatable)' })
      .option('cap-drop', { type: 'string', describe: 'drop a capability (NET_RAW, ALL) (repeatable)' })
      .option('privileged', { type: 'boolean', describe: 'every capability, no seccomp filter, no masked /proc paths, all devices allowed' })
      .option('security-opt', { type: 'string', describe: 'seccomp=unconfined, seccomp=FILE or no-new-privileges (repeatable)' })
      .option('ulimit', { type: 'string', describe: 'a resource limit NAME=SOFT[:HARD], e.g. nofile=1024:2048 (repeatable)' })
      .option('shm-size', { type: 'string', describe: 'size of /dev/shm (e.g. 64m)' })
      .option('sysctl', { type: 'string', describe: 'a namespaced kernel parameter KEY=VALUE (repeatable)' })
      .option('group-add', { type: 'string', describe: 'an additional group (gid or a group name in the image) (repeatable)' })
      .option('tmpfs', { type: 'string', describe: 'mount a tmpfs at PATH[:OPTIONS] (repeatable)' }),
  async run(ctx, a) {
    // Loaded here: main.ts loads every command module to start any one of them.
    const { createBundle } = await import('../../bundle/bundle.js');
    const { ImageNotFoundError } = await import('../../store/errors.js');
    const store = await ctx.openStore();
    const image = await store.resolve(String(a.image), ctx.platform).catch(async (e) => {
      if (!(e instanceof ImageNotFoundError)) throw e;
      // Not in the store: pulled, as `docker run` does; progress on stderr, stdout carries the bundle path.
      const { pullWithProgress } = await import('../pull-image.js');
      const pulled = await pullWithProgress(ctx, store, String(a.image), { out: process.stderr });
      return store.resolve(pulled.name, ctx.platform);
    });
    const dir = resolve(String(a.dir));
    // yargs leaves what follows `--` in `_`, after the command's own name.
    const args = [...(list(a.args) ?? []), ...(list(a._) ?? []).slice(1)];
    await createBundle(
      store,
      String(a.image),
      dir,
      {
        flat: Boolean(a.flat),
        limits: ctx.layerLimits(),
        args: args.length ? args : undefined,
        env: list(a.env),
        volumes: list(a.volume),
        memory: str(a.memory),
        cpus: num(a.cpus),
        cpuShares: num(a['cpu-shares']),
        cpusetCpus: str(a['cpuset-cpus']),
        pidsLimit: num(a['pids-limit']),
        user: str(a.user),
        workdir: str(a.workdir),
        hostname: str(a.hostname),
        readOnly: Boolean(a['read-only']),
        tty: Boolean(a.tty),
        network: await networkOption(a),
        defaults: a.defaults as DefaultsKind,
        capAdd: list(a['cap-add']),
        capDrop: list(a['cap-drop']),
        privileged: Boolean(a.privileged),
        securityOpt: list(a['security-opt']),
        ulimits: list(a.ulimit),
        shmSize: str(a['shm-size']),
        sysctls: list(a.sysctl),
        groupAdd: list(a['group-add']),
        tmpfs: list(a.tmpfs),
      },
      image,
    );
    ctx.out(dir);
  },
};
export default command;
