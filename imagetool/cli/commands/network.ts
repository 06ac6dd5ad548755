// rocker-image network create|ls|inspect|rm: manage the CNI bridge networks
// bundles attach to. They live with the image tool because networks are an
// engine-level resource; rocker-runtime stays a plain runc-compatible runtime
// and only runs the hooks a networked bundle carries.
import type { Argv } from 'yargs';
import { UsageError } from '../../../runtime/errors.js';

const ACTIONS = ['create', 'ls', 'inspect', 'rm'] as const;
const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd() + '\n').join('');
}

/** The shape of rocker-image's command modules (cli/context.ts's ImageCommand). */
const command = {
  command: 'network <action> [name]',
  describe: 'manage CNI bridge networks: create NAME, ls, inspect NAME, rm NAME',
  builder: <T>(y: Argv<T>) =>
    y
      .positional('action', { choices: ACTIONS, describe: 'what to do' })
      .positional('name', { type: 'string', describe: 'network name' })
      .option('subnet', { type: 'string', describe: 'create: IPv4 subnet in CIDR form (default: a free /24 of 10.210.0.0/16)' })
      .option('gateway', { type: 'string', describe: 'create: gateway address (default: the first host address)' })
      .option('driver', { type: 'string', default: 'bridge', describe: 'create: network driver (only bridge)' })
      .option('config-dir', { type: 'string', describe: 'network conflists (default $ROCKER_NETWORK_CONFIG_DIR or /etc/rocker/networks)' })
      .option('state-dir', { type: 'string', describe: 'leases and attachments (default $ROCKER_NETWORK_STATE_DIR or /run/rocker-network)' }),
  async run(ctx: { quiet: boolean }, a: Record<string, unknown>): Promise<number> {
    // Loaded here: rocker-image's main loads every command module to start any one of them.
    const { createNetwork, listNetworks, inspectNetwork, removeNetwork, networkDirs } = await import('../../network/index.js');
    const d = networkDirs(str(a['config-dir']), str(a['state-dir']));
    const action = String(a.action);
    const name = str(a.name);
    if (action === 'ls') {
      const nets = listNetworks(d);
      const rows = nets.map((n) => [n.name, n.driver, n.subnet, n.gateway, n.bridge]);
      process.stdout.write(ctx.quiet ? nets.map((n) => `${n.name}\n`).join('') : table([['NAME', 'DRIVER', 'SUBNET', 'GATEWAY', 'BRIDGE'], ...rows]));
      return 0;
    }
    if (!name) throw new UsageError(`network ${action}: a network name is required`);
    if (action === 'create') {
      await createNetwork(d, { name, subnet: str(a.subnet), gateway: str(a.gateway), driver: str(a.driver) });
      process.stdout.write(`${name}\n`);
    } else if (action === 'inspect') {
      process.stdout.write(JSON.stringify(inspectNetwork(d, name), null, 2) + '\n');
    } else {
      await removeNetwork(d, name);
      process.stdout.write(`${name}\n`);
    }
    return 0;
  },
};
export default command;
