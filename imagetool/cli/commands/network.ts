// rocker-image network create|ls|inspect|rm: manage the CNI bridge networks
// bundles attach to. They live with the image tool because networks are an
// engine-level resource; rocker-runtime stays a plain runc-compatible runtime
// and only runs the hooks a networked bundle carries.
import type { Argv, CommandModule } from 'yargs';
import {
  createNetwork,
  listNetworks,
  inspectNetwork,
  removeNetwork,
  networkDirs,
} from '../../network/index.js';

interface DirArgs {
  'config-dir'?: string;
  'state-dir'?: string;
}

const dirs = (a: DirArgs) => networkDirs(a['config-dir'], a['state-dir']);

function withDirs<T>(y: Argv<T>) {
  return y
    .option('config-dir', { type: 'string', describe: 'network conflists (default $ROCKER_NETWORK_CONFIG_DIR or /etc/rocker/networks)' })
    .option('state-dir', { type: 'string', describe: 'leases and attachments (default $ROCKER_NETWORK_STATE_DIR or /run/rocker-network)' });
}

const create: CommandModule<DirArgs, DirArgs & { name: string; subnet?: string; gateway?: string; driver: string }> = {
  command: 'create <name>',
  describe: 'create a bridge network',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('subnet', { type: 'string', describe: 'IPv4 subnet in CIDR form (default: a free /24 of 10.210.0.0/16)' })
      .option('gateway', { type: 'string', describe: 'gateway address (default: the first host address)' })
      .option('driver', { type: 'string', default: 'bridge', describe: 'network driver (only bridge)' }),
  handler: async (a) => {
    const n = await createNetwork(dirs(a), { name: a.name, subnet: a.subnet, gateway: a.gateway, driver: a.driver });
    process.stdout.write(`${n.name}\n`);
  },
};

const ls: CommandModule<DirArgs, DirArgs & { quiet?: boolean }> = {
  command: 'ls',
  aliases: ['list'],
  describe: 'list networks',
  builder: (y) => y.option('quiet', { alias: 'q', type: 'boolean', describe: 'only names' }),
  handler: (a) => {
    const nets = listNetworks(dirs(a));
    if (a.quiet) {
      process.stdout.write(nets.map((n) => `${n.name}\n`).join(''));
      return;
    }
    const rows = [['NAME', 'DRIVER', 'SUBNET', 'GATEWAY', 'BRIDGE'], ...nets.map((n) => [n.name, n.driver, n.subnet, n.gateway, n.bridge])];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd() + '\n').join(''));
  },
};

const inspect: CommandModule<DirArgs, DirArgs & { name: string }> = {
  command: 'inspect <name>',
  describe: 'show a network and the containers attached to it (with their addresses)',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
  handler: (a) => {
    process.stdout.write(JSON.stringify(inspectNetwork(dirs(a), a.name), null, 2) + '\n');
  },
};

const rm: CommandModule<DirArgs, DirArgs & { name: string }> = {
  command: 'rm <name>',
  aliases: ['remove'],
  describe: 'remove a network (refused while containers are attached)',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
  handler: async (a) => {
    await removeNetwork(dirs(a), a.name);
    process.stdout.write(`${a.name}\n`);
  },
};

export const command = 'network';
export const describe = 'manage CNI bridge networks';
export const builder = (y: Argv) =>
  withDirs(y)
    .command(create as unknown as CommandModule)
    .command(ls as unknown as CommandModule)
    .command(inspect as unknown as CommandModule)
    .command(rm as unknown as CommandModule)
    .demandCommand(1, 'network: a subcommand is required (create, ls, inspect, rm)');
export const handler = () => {};
